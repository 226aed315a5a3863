import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { Attributes } from '../../core/attributes.ts';
import { quantizeValue } from '../common/round-half-even.ts';
import { BINARY_SPECS, type BinarySpec } from '../elementwise-binary/binary-math.ts';
import { CLIP_MATH, UNARY_SPECS, type UnarySpec } from '../elementwise-unary/unary-math.ts';

/*
 * kiln.FusedElementwise: a chain or small DAG of float32 elementwise ops run as one kernel (written
 * by runtime/graph/passes/fuse-elementwise.ts). Its attributes are a small program:
 *
 *   steps: string[]     one per step, in order: `<Op>[:<mode>] <ref> <ref> ...`
 *   constants: float[]  the float32 values k-refs read
 *   opset: int          the ai.onnx opset the steps were written for
 *   min_rank: int       the output has at least this rank (default 0): one-element constants of
 *                       rank r moved into `constants` still raise the broadcast rank as they did
 *
 * A ref is `i<n>` (node input n), `s<n>` (the result of an earlier step n) or `k<n>` (constants[n]).
 *   <unary op> x p...   an op of the elementwise table (unary-math.ts) taking float32, x then its
 *                       params in the table's order as k-refs (LeakyRelu alpha; HardSigmoid alpha
 *                       beta; ...); Gelu's mode is its `approximate` ('none' | 'tanh')
 *   Clip x lo hi        lo, hi k-refs
 *   Add|Sub|Mul|Div|Pow|PRelu a b
 *   Where c a b         c an i-ref to a bool input
 *   Cast x              x an i-ref to an input of a type in CAST_FROM; the result is float32
 *   QuantizeDequantize x s z lo hi
 *                       kiln.QuantizeDequantize with one float32 scale s and zero point z (k-refs),
 *                       the integer type's range lo..hi (k-refs): q = clamp(rint(x / s) + z, lo, hi),
 *                       then (q - z) * s: an activation's fake quantization, folded into its
 *                       producer's store or its consumer's load
 *   QuantizeLinear x s z lo hi
 *                       QuantizeLinear with one float32 scale s and zero point z (k-refs):
 *                       q = clamp(rint(x / s) + z, lo, hi), stored as the integer type
 *                       `output_dtype` names (an ONNX type code: uint8, int8, uint16 or int16;
 *                       lo..hi inside its range). Only as the last step, and only then is
 *                       output_dtype set: a float producer that stores its consumer's integers
 * e.g. ["Mul i0 k0", "Add s0 k1", "HardSwish s1"] with constants [1.38, 0.59].
 * The output is the last step's result: float32 (or output_dtype's integers), of the broadcast shape
 * of all inputs and of [1] * min_rank (elementwise broadcasting composes). Every step rounds to
 * float32, as the separate ops do.
 */

export type Ref = { readonly kind: 'i' | 's' | 'k'; readonly index: number };
export type StepKind = 'unary' | 'binary' | 'clip' | 'where' | 'cast' | 'quant' | 'quantize';

export interface Step {
  readonly op: string;
  readonly mode: string;
  readonly kind: StepKind;
  readonly args: readonly Ref[];
  readonly unary?: UnarySpec;
  readonly binary?: BinarySpec;
}

/** How the kernel reads a node input: as a float32 operand, a Where condition, or a Cast source. */
export type InputRole = 'float' | 'cond' | 'cast';

export interface Program {
  readonly steps: readonly Step[];
  readonly constants: readonly number[];
  readonly roles: readonly InputRole[];
  /** float32, or the integer type a final QuantizeLinear step stores */
  readonly outType: DataType;
}

/**
 * The integer types a quantization step clamps to (a QuantizeDequantize's grid, a final QuantizeLinear's
 * output), with their ranges; float8's saturation rules are not a clamp.
 */
export const QUANTIZED_RANGES: ReadonlyMap<DataType, readonly [number, number]> = new Map([['uint8', [0, 255]], ['int8', [-128, 127]], ['uint16', [0, 65535]], ['int16', [-32768, 32767]]]);

export const FUSABLE_UNARY: ReadonlyMap<string, UnarySpec> = new Map(UNARY_SPECS.filter((s) => !s.domain && !s.boolOut && s.types.includes('float32')).map((s) => [s.opType, s]));
export const FUSABLE_BINARY: ReadonlyMap<string, BinarySpec> = new Map(BINARY_SPECS.filter((s) => ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'PRelu'].includes(s.opType)).map((s) => [s.opType, s]));
/** WebGPU's guaranteed storage buffers per stage (8): the output and at most 7 inputs. */
export const MAX_FUSED_INPUTS = 7;

export const CAST_FROM: readonly DataType[] = ['float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool'];

/** Reads and checks the program of a FusedElementwise node with `inputCount` inputs. */
export function parseProgram(attrs: Attributes, node: string, inputCount: number): Program {
  const bad = (why: string): never => fail('INVALID_GRAPH', `node '${node}': FusedElementwise ${why}`);
  const texts = attrs.strings('steps') ?? [];
  if (texts.length === 0) bad('needs at least one step');
  const constants = attrs.floats('constants', []);
  const outCode = attrs.int('output_dtype', 0);
  let outType: DataType = 'float32';
  try { if (outCode) outType = dataTypeFromOnnx(outCode, 'output_dtype'); } catch { bad(`output_dtype ${outCode} is not a type code`); }
  const outRange = QUANTIZED_RANGES.get(outType);
  if (outType !== 'float32' && !outRange) bad(`output_dtype ${outType} is not float32, uint8, int8, uint16 or int16`);
  const roles: (InputRole | undefined)[] = new Array(inputCount).fill(undefined);
  const claim = (r: Ref, role: InputRole): void => {
    if (r.kind !== 'i') return;
    if (roles[r.index] !== undefined && roles[r.index] !== role) bad(`reads input ${r.index} both as ${roles[r.index]} and as ${role}`);
    roles[r.index] = role;
  };
  const steps = texts.map((text, n): Step => {
    const [head = '', ...refTexts] = text.trim().split(/\s+/);
    const [op = '', mode = ''] = head.split(':');
    const args = refTexts.map((t): Ref => {
      const m = /^([isk])(\d+)$/.exec(t);
      if (!m) return bad(`step ${n} '${text}': '${t}' is not a ref (i<n>, s<n>, k<n>)`);
      const r: Ref = { kind: m[1] as Ref['kind'], index: Number(m[2]) };
      const limit = r.kind === 'i' ? inputCount : r.kind === 's' ? n : constants.length;
      if (r.index >= limit) bad(`step ${n} '${text}': ${t} refers past the ${r.kind === 'i' ? 'inputs' : r.kind === 's' ? 'earlier steps' : 'constants'}`);
      return r;
    });
    const arity = (want: number, consts: readonly number[] = []): void => {
      if (args.length !== want) bad(`step ${n} '${text}': ${op} takes ${want} refs, got ${args.length}`);
      for (const i of consts) if (args[i]!.kind !== 'k') bad(`step ${n} '${text}': ref ${i} must be a constant (k<n>)`);
    };
    const floats = (...idx: number[]): void => idx.forEach((i) => claim(args[i]!, 'float'));
    const unary = FUSABLE_UNARY.get(op);
    if (unary) {
      const params = paramCount(unary);
      arity(1 + params, Array.from({ length: params }, (_, i) => i + 1));
      if (op === 'Gelu' ? mode !== 'none' && mode !== 'tanh' : mode !== '') bad(`step ${n} '${text}': mode '${mode}' is not valid for ${op}`);
      floats(0);
      return { op, mode, kind: 'unary', args, unary };
    }
    if (mode !== '') bad(`step ${n} '${text}': ${op} takes no mode`);
    const binary = FUSABLE_BINARY.get(op);
    if (binary) {
      arity(2);
      floats(0, 1);
      return { op, mode, kind: 'binary', args, binary };
    }
    switch (op) {
      case 'Clip': arity(3, [1, 2]); floats(0); return { op, mode, kind: 'clip', args };
      case 'QuantizeDequantize': arity(5, [1, 2, 3, 4]); floats(0); return { op, mode, kind: 'quant', args };
      case 'QuantizeLinear': {
        arity(5, [1, 2, 3, 4]);
        if (n !== texts.length - 1 || !outRange) bad(`step ${n} '${text}': QuantizeLinear is only the last step of a program with an integer output_dtype`);
        const [lo, hi] = [constants[args[3]!.index]!, constants[args[4]!.index]!];
        if (!(lo >= outRange![0] && hi <= outRange![1] && lo <= hi)) bad(`step ${n} '${text}': the range ${lo}..${hi} does not fit ${outType}`);
        floats(0);
        return { op, mode, kind: 'quantize', args };
      }
      case 'Where':
        arity(3);
        if (args[0]!.kind !== 'i') bad(`step ${n} '${text}': the condition must be a node input (a bool tensor)`);
        claim(args[0]!, 'cond');
        floats(1, 2);
        return { op, mode, kind: 'where', args };
      case 'Cast':
        arity(1);
        if (args[0]!.kind !== 'i') bad(`step ${n} '${text}': Cast reads a node input`);
        claim(args[0]!, 'cast');
        return { op, mode, kind: 'cast', args };
      default: return bad(`step ${n}: '${op}' is not an op it can run`);
    }
  });
  const unused = roles.findIndex((r) => r === undefined);
  if (unused >= 0) bad(`never reads input ${unused}`);
  if (outRange && steps[steps.length - 1]!.kind !== 'quantize') bad(`with output_dtype ${outType} must end in a QuantizeLinear step`);
  return { steps, constants, roles: roles as InputRole[], outType };
}

/** How many params a unary op of the table reads: its params function on the attribute defaults. */
function paramCount(spec: UnarySpec): number {
  return spec.params?.({ attrs: Attributes.empty(), opset: 0, node: '', host: [] }).length ?? 0;
}

/** One step's float64 math on float32 values (the result is rounded by the caller). */
export function stepCpu(step: Step, v: (r: Ref) => number, constants: readonly number[]): number {
  const a = step.args;
  switch (step.kind) {
    case 'unary': return step.unary!.cpu(v(a[0]!), a.slice(1).map((r) => constants[r.index]!), step.mode);
    case 'binary': return step.binary!.cpu(v(a[0]!), v(a[1]!), false, '', 64);
    case 'clip': return CLIP_MATH.cpu(v(a[0]!), constants[a[1]!.index]!, constants[a[2]!.index]!);
    case 'where': return v(a[0]!) !== 0 ? v(a[1]!) : v(a[2]!);
    case 'cast': return v(a[0]!);
    case 'quant': return fakeQuant(v(a[0]!), ...(a.slice(1).map((r) => constants[r.index]!) as [number, number, number, number]));
    case 'quantize': { const [s, z, lo, hi] = a.slice(1).map((r) => constants[r.index]!) as [number, number, number, number]; return quantizeValue(Math.fround(v(a[0]!) / s), z, lo, hi); }
  }
}

/** kiln.QuantizeDequantize's per-tensor float32 math (its js kernel's): the quotient rounded to float32, then QuantizeLinear's rounding. */
export function fakeQuant(x: number, s: number, z: number, lo: number, hi: number): number {
  return (quantizeValue(Math.fround(x / s), z, lo, hi) - z) * s;
}
