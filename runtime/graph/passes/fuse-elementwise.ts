import { Attributes } from '../../../core/attributes.ts';
import { dataTypeFromOnnx, onnxTypeCode, type DataType } from '../../../core/dtype.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import { opKey } from '../../../kernels/contract.ts';
import { CAST_FROM, FUSABLE_BINARY, FUSABLE_UNARY, MAX_FUSED_INPUTS, QUANTIZED_RANGES } from '../../../kernels/fused-elementwise/program.ts';
import type { KernelContext } from '../../../kernels/contract.ts';
import { EPILOGUE_SLOT, MAX_EPILOGUE_INPUTS } from '../../../kernels/fused-elementwise/epilogue.ts';
import { QUANTIZE_X_ATTR } from '../../../kernels/qlinear-conv/fused-io-attrs.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { knownTypes } from './value-types.ts';

const FLT_MAX = 3.4028234663852886e38;

/** A one-element float32 initializer (not a graph input a feed may override): a program constant instead of an input. */
function inlineConstant(graph: Graph, name: string): { value: number; rank: number } | undefined {
  const t = graph.inputs.some((i) => i.name === name) ? undefined : graph.initializers.get(name);
  return t && t.type === 'float32' && t.size === 1 ? { value: toNumbers(t)[0]!, rank: t.dims.length } : undefined;
}

/** Clip's bounds when constant (attributes before opset 11, initializers after; absent: unbounded). */
function clipBounds(n: Node, graph: Graph, opset: number): [number, number] | undefined {
  if (opset < 11) return [n.attrs.float('min', -FLT_MAX), n.attrs.float('max', FLT_MAX)];
  const bound = (slot: number, fallback: number): number | undefined => (n.inputs[slot] ? inlineConstant(graph, n.inputs[slot])?.value : fallback);
  const lo = bound(1, -Infinity);
  const hi = bound(2, Infinity);
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

const ctxOf = (n: Node, opset: number): KernelContext => ({ attrs: n.attrs, opset, node: n.name, host: [] });


/**
 * A kiln.QuantizeDequantize (an activation's fake quantization, qdq-activation.ts) as a program
 * step: one float32 scale and one zero point, both constants (a feed cannot override them), float32
 * arithmetic; its scale, zero point and the integer type's range. Else undefined: it stays a node.
 */
function fakeQuantParams(n: Node, graph: Graph): { s: number; z: number; lo: number; hi: number } | undefined {
  if (n.opType !== 'QuantizeDequantize' || n.domain !== 'kiln' || n.attrs.int('block_size', 0) !== 0 || ![0, 1].includes(n.attrs.int('precision', 0))) return undefined;
  const constant = (v: string | undefined) => (v && !graph.inputs.some((i) => i.name === v) ? graph.initializers.get(v) : undefined);
  const scale = constant(n.inputs[1]);
  const zp = n.inputs[2] ? constant(n.inputs[2]) : undefined;
  if (!scale || scale.type !== 'float32' || scale.size !== 1 || (n.inputs[2] && (!zp || zp.size !== 1))) return undefined;
  const code = n.attrs.int('output_dtype', 0);
  let type: DataType | undefined;
  try { type = zp?.type ?? (code ? dataTypeFromOnnx(code, 'output_dtype') : 'uint8'); } catch { return undefined; }
  const range = QUANTIZED_RANGES.get(type);
  return range ? { s: toNumbers(scale)[0]!, z: zp ? toNumbers(zp)[0]! : 0, lo: range[0], hi: range[1] } : undefined;
}

/** The node inputs a fusable node reads as float32 operands (its fusable producers may join the group). */
function floatOperands(n: Node): readonly string[] {
  if (n.opType === 'Where') return n.inputs.slice(1, 3);
  if (n.opType === 'Cast') return [];
  if (n.opType === 'Clip' || n.opType === 'QuantizeDequantize') return n.inputs.slice(0, 1);
  return n.inputs;
}

function fusable(n: Node, graph: Graph, types: ReadonlyMap<string, DataType>, opset: number): boolean {
  if (n.outputs.length !== 1 || types.get(n.outputs[0]!) !== 'float32') return false;
  const isF32 = (v: string | undefined): boolean => v !== undefined && v !== '' && types.get(v) === 'float32';
  if (n.domain === 'kiln' && n.opType === 'QuantizeDequantize') return isF32(n.inputs[0]) && fakeQuantParams(n, graph) !== undefined;
  if (n.domain !== '') return false;
  const unary = FUSABLE_UNARY.get(n.opType);
  if (unary) {
    if (n.inputs.length !== 1 || !isF32(n.inputs[0])) return false;
    return n.opType !== 'Gelu' || ['none', 'tanh'].includes(n.attrs.string('approximate', 'none'));
  }
  if (FUSABLE_BINARY.has(n.opType)) return n.inputs.length === 2 && n.inputs.every(isF32) && (n.opType !== 'PRelu' || opset >= 7);
  switch (n.opType) {
    case 'Clip': return isF32(n.inputs[0]) && clipBounds(n, graph, opset) !== undefined;
    case 'Where': return types.get(n.inputs[0] ?? '') === 'bool' && isF32(n.inputs[1]) && isF32(n.inputs[2]);
    case 'Cast': { const from = types.get(n.inputs[0] ?? ''); return from !== undefined && CAST_FROM.includes(from); }
    default: return false;
  }
}

/** The values a group reads from outside (inputs of the fused node), constants inlined aside. */
function externalInputs(group: ReadonlySet<Node>, graph: Graph): Set<string> {
  const inside = new Set([...group].map((n) => n.outputs[0]!));
  const ext = new Set<string>();
  for (const n of group) {
    for (const [slot, v] of n.inputs.entries()) {
      if (!v || inside.has(v)) continue;
      if ((n.opType === 'Clip' || n.opType === 'QuantizeDequantize') && slot > 0) continue; // bounds, scale and zero point become constants
      if (n.opType !== 'Where' && n.opType !== 'Cast' && inlineConstant(graph, v)) continue;
      if (n.opType === 'Where' && slot > 0 && inlineConstant(graph, v)) continue;
      ext.add(v);
    }
  }
  return ext;
}

/** Grows a group from its root upwards: a producer joins when every reader of its value is in the group. */
function growGroup(root: Node, ok: (n: Node) => boolean, index: GraphIndex, graph: Graph): Set<Node> {
  const group = new Set([root]);
  for (let changed = true; changed;) {
    changed = false;
    for (const m of [...group]) {
      for (const v of floatOperands(m)) {
        const p = index.producer.get(v);
        if (!p || group.has(p) || !ok(p) || index.graphOutputs.has(v)) continue;
        if (!(index.consumers.get(v) ?? []).every((c) => group.has(c))) continue;
        const grown = new Set([...group, p]);
        if (externalInputs(grown, graph).size > MAX_FUSED_INPUTS) continue;
        group.add(p);
        changed = true;
      }
    }
  }
  return group;
}

/** The group as a FusedElementwise node (program format: kernels/fused-elementwise/program.ts). */
function fusedNode(root: Node, members: readonly Node[], graph: Graph, opset: number): Node {
  const stepOf = new Map(members.map((n, i) => [n.outputs[0]!, i]));
  const inputs: string[] = [];
  const constants: number[] = [];
  let minRank = 0;
  const konst = (v: number): string => `k${constants.push(v) - 1}`;
  const ref = (v: string, inline: boolean): string => {
    const s = stepOf.get(v);
    if (s !== undefined) return `s${s}`;
    const c = inline ? inlineConstant(graph, v) : undefined;
    if (c) {
      minRank = Math.max(minRank, c.rank);
      return konst(c.value);
    }
    const at = inputs.indexOf(v);
    return `i${at >= 0 ? at : inputs.push(v) - 1}`;
  };
  const steps = members.map((n) => {
    const args = (refs: string[]): string => [n.opType === 'Gelu' ? `Gelu:${n.attrs.string('approximate', 'none')}` : n.opType, ...refs].join(' ');
    switch (n.opType) {
      case 'Clip': { const [lo, hi] = clipBounds(n, graph, opset)!; return args([ref(n.inputs[0]!, true), konst(lo), konst(hi)]); }
      case 'QuantizeDequantize': { const q = fakeQuantParams(n, graph)!; return args([ref(n.inputs[0]!, true), konst(q.s), konst(q.z), konst(q.lo), konst(q.hi)]); }
      case 'Where': return args([ref(n.inputs[0]!, false), ref(n.inputs[1]!, true), ref(n.inputs[2]!, true)]);
      case 'Cast': return args([ref(n.inputs[0]!, false)]);
      default: {
        const unary = FUSABLE_UNARY.get(n.opType);
        const params = unary?.params?.(ctxOf(n, opset)) ?? [];
        return args([...n.inputs.map((v) => ref(v, true)), ...params.map(konst)]);
      }
    }
  });
  const attrs = Attributes.empty().with('steps', steps).with('constants', constants).with('opset', opset).with('min_rank', minRank);
  return { name: `${root.name}/fused`, opType: 'FusedElementwise', domain: 'kiln', inputs, outputs: [root.outputs[0]!], attrs };
}

/** Where a fused program can run instead: a producer node and which of the program's inputs is its output. */
interface EpilogueHost {
  readonly node: Node;
  readonly input: number;
}

/** Producers with a FusedElementwise epilogue (by opKey), and whether it may read extra tensors (epilogue.ts). */
const HOSTS: ReadonlyMap<string, { readonly extras: boolean; readonly maxMinRank: number }> = new Map([
  // a Conv's output has rank >= 3
  [opKey('', 'Conv'), { extras: true, maxMinRank: 3 }],
  [opKey('', 'MatMul'), { extras: true, maxMinRank: 0 }],
  // Gemm's output is [M, N]
  [opKey('', 'Gemm'), { extras: true, maxMinRank: 2 }],
  // the QDQ lowering's ops and a pooling: a unary tail only (an activation's fake quantization);
  // their slots from EPILOGUE_SLOT on are their own inputs
  [opKey('kiln', 'DequantConv'), { extras: false, maxMinRank: 3 }],
  [opKey('com.microsoft', 'MatMulNBits'), { extras: false, maxMinRank: 2 }],
  [opKey('', 'GlobalAveragePool'), { extras: false, maxMinRank: 3 }],
]);

/**
 * The Conv, MatMul or Gemm whose epilogue can run the fused program instead: the program reads its
 * float32 output (and constants, and up to MAX_EPILOGUE_INPUTS other float32 tensors), which
 * nothing outside the group reads, and it has no epilogue yet. min_rank must not
 * raise the output's rank. Other tensors may broadcast; one that would enlarge the output is
 * caught at plan time (the WebGPU kernel declines the node, the js kernel runs it).
 */
function epilogueHost(fused: Node, group: ReadonlySet<Node>, index: GraphIndex, types: ReadonlyMap<string, DataType>): EpilogueHost | undefined {
  if (fused.inputs.length > 1 + MAX_EPILOGUE_INPUTS) return undefined;
  // Where conditions and Cast sources are not float32 operands: an epilogue reads float32 only
  if (fused.inputs.some((v) => types.get(v) !== 'float32')) return undefined;
  for (const [i, v] of fused.inputs.entries()) {
    const host = index.producer.get(v);
    const kind = host ? HOSTS.get(opKey(host.domain, host.opType)) : undefined;
    if (!host || !kind || host.outputs.length !== 1) continue;
    if (fused.inputs.length > 1 && (!kind.extras || pooledConv(host, index))) continue;
    if (host.attrs.has('kiln_epilogue_steps') || index.graphOutputs.has(v) || fused.attrs.int('min_rank', 0) > kind.maxMinRank) continue;
    if ((index.consumers.get(v) ?? []).every((c) => group.has(c))) return { node: host, input: i };
  }
  return undefined;
}

/**
 * A Conv over a globally pooled tensor ([N, C, 1, 1]: an SE block's squeeze-excite convs): as the
 * host of a tail that also reads the full feature map, the output would be that map's shape, which
 * its store cannot write (the step would run on the CPU). The feature map's producer hosts instead.
 */
function pooledConv(conv: Node, index: GraphIndex): boolean {
  let n: Node | undefined = conv;
  for (let depth = 0; n && depth < 6; depth++) {
    if (['GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean', 'ReduceMax'].includes(n.opType)) return true;
    n = index.producer.get(n.inputs[0] ?? '');
  }
  return false;
}

/** Consumers whose load of X (input 0) can run a program first (epilogue.ts prologueOf). */
const PROLOGUE_HOSTS = new Set([opKey('', 'Conv'), opKey('kiln', 'DequantConv')]);

/**
 * The Conv or kiln.DequantConv that can run a group of fake quantizations (kiln.QuantizeDequantize
 * steps only) on each x it reads, when no producer's store can: the model input's quantization. Its
 * only reader, at X alone. Only fake quantizations, because the consumer repeats the program for each
 * tap and output-channel tile that reads an element (as QLinearConv's quantize-on-load does); a
 * longer elementwise chain stays one dispatch of its own.
 */
function prologueHost(fused: Node, members: readonly Node[], index: GraphIndex): Node | undefined {
  if (fused.inputs.length !== 1 || !members.every((m) => m.opType === 'QuantizeDequantize')) return undefined;
  const v = fused.outputs[0]!;
  const readers = index.consumers.get(v) ?? [];
  const c = readers[0];
  if (readers.length !== 1 || !c || index.graphOutputs.has(v) || !PROLOGUE_HOSTS.has(opKey(c.domain, c.opType))) return undefined;
  if (c.inputs[0] !== v || c.inputs.slice(1).includes(v) || c.attrs.has('kiln_prologue_steps')) return undefined;
  return c;
}

/** A QLinearConv / QLinearMatMul that quantizes X as it loads it (fuse-qdq-webgpu.ts), and its x_zero_point. */
interface QuantizingReader {
  readonly node: Node;
  readonly scale: number;
  readonly zeroPoint: number;
  readonly type: DataType;
}

/**
 * The group's only reader when it is a QLinearConv or QLinearMatMul that quantizes X on its load
 * (kiln_quantize_x, at X alone; per-tensor constant x_scale and x_zero_point, as that fold
 * requires): the group stores the integers instead (a final QuantizeLinear step), once per element.
 * The reader repeats the quantization (its exact rounding is most of a quantized activation's cost on
 * SwiftShader) for every output-channel tile and tap that loads the element: the MobileNetV3-like
 * model's squeeze-excite Mul feeds a 1x1 conv that ran 3.4x its float twin's time that way.
 */
function quantizingReader(fused: Node, index: GraphIndex, graph: Graph): QuantizingReader | undefined {
  const v = fused.outputs[0]!;
  const readers = index.consumers.get(v) ?? [];
  const c = readers[0];
  if (readers.length !== 1 || !c || index.graphOutputs.has(v) || c.domain !== '' || (c.opType !== 'QLinearConv' && c.opType !== 'QLinearMatMul')) return undefined;
  if (c.attrs.int(QUANTIZE_X_ATTR, 0) !== 1 || c.inputs[0] !== v || c.inputs.slice(1).includes(v)) return undefined;
  // constants a feed cannot override: the reader's requantization reads the same values
  const constant = (name: string | undefined) => (name && !graph.inputs.some((i) => i.name === name) ? graph.initializers.get(name) : undefined);
  const [s, z] = [constant(c.inputs[1]), constant(c.inputs[2])];
  if (s?.type !== 'float32' || s.size !== 1 || !z || z.size !== 1 || (z.type !== 'uint8' && z.type !== 'int8')) return undefined;
  return { node: c, scale: toNumbers(s)[0]!, zeroPoint: toNumbers(z)[0]!, type: z.type };
}

/** The fused program with a final QuantizeLinear onto the reader's grid: its output that integer type, under a new name. */
function withQuantizedOutput(fused: Node, q: QuantizingReader): Node {
  const steps = fused.attrs.strings('steps')!;
  const constants = [...fused.attrs.floats('constants', [])];
  const k = constants.push(q.scale, q.zeroPoint, ...QUANTIZED_RANGES.get(q.type)!) - 4;
  const step = `QuantizeLinear s${steps.length - 1} k${k} k${k + 1} k${k + 2} k${k + 3}`;
  const attrs = fused.attrs.with('steps', [...steps, step]).with('constants', constants).with('output_dtype', onnxTypeCode(q.type));
  return { ...fused, outputs: [`${fused.outputs[0]!}/quantized`], attrs };
}

/** The program's steps with input `first` renamed i0 and the others after it in order. */
function hostInputFirst(steps: readonly string[], first: number): string[] {
  const rename = (i: number): number => (i === first ? 0 : i < first ? i + 1 : i);
  return steps.map((t) => t.replace(/\bi(\d+)\b/g, (_, d: string) => `i${rename(Number(d))}`));
}

/**
 * Chains and small DAGs of float32 elementwise ops (the table's unary ops, Add/Sub/Mul/Div/Pow/
 * PRelu with broadcasting, Clip with constant bounds, Where, Cast to float32) whose intermediate
 * values feed nothing outside become one kiln.FusedElementwise node: one dispatch instead of one
 * per op; a group that reads a Conv's, MatMul's or Gemm's output (read by nothing else) runs in
 * that producer's epilogue instead, after its bias and activation, its other tensors (a residual,
 * a scale) as extra inputs of the producer (kernels/fused-elementwise/epilogue.ts). Runs after the producer-epilogue fusions and the
 * QDQ lowering (whose patterns read the single ops). Value types come from the graph alone
 * (value-types.ts); a value of unknown type is never fused.
 */
export function fuseElementwise(graph: Graph, opset: number): void {
  const types = knownTypes(graph);
  const index = new GraphIndex(graph);
  const order = new Map(graph.nodes.map((n, i) => [n, i]));
  const ok = (n: Node): boolean => fusable(n, graph, types, opset);
  const taken = new Set<Node>();
  const replace = new Map<Node, Node | undefined>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const root = graph.nodes[i]!;
    if (taken.has(root) || !ok(root)) continue;
    const group = growGroup(root, (n) => !taken.has(n) && ok(n), index, graph);
    const members = [...group].sort((a, b) => order.get(a)! - order.get(b)!);
    const fused = fusedNode(root, members, graph, opset);
    const host = epilogueHost(fused, group, index, types);
    const reader = host ? undefined : prologueHost(fused, members, index);
    const quantizing = host || reader ? undefined : quantizingReader(fused, index, graph);
    if (group.size < 2 && !host && !reader && !quantizing) continue;
    for (const m of members) {
      taken.add(m);
      replace.set(m, undefined);
    }
    if (quantizing) {
      // the group stores the reader's integers, which it reads as its plain X
      const stored = withQuantizedOutput(fused, quantizing);
      const current = replace.get(quantizing.node) ?? quantizing.node;
      replace.set(root, stored);
      replace.set(quantizing.node, { ...current, inputs: [stored.outputs[0]!, ...current.inputs.slice(1)], attrs: current.attrs.without(QUANTIZE_X_ATTR) });
      continue;
    }
    if (reader) {
      // the reader runs the program on X as it loads it, straight from the group's input (over a
      // rewrite already made: its own epilogue, written when the group after it was fused)
      const current = replace.get(reader) ?? reader;
      const attrs = current.attrs.with('kiln_prologue_steps', fused.attrs.strings('steps')!.slice()).with('kiln_prologue_constants', fused.attrs.floats('constants', []).slice());
      replace.set(reader, { ...current, inputs: [fused.inputs[0]!, ...current.inputs.slice(1)], attrs });
      continue;
    }
    if (!host) {
      replace.set(root, fused);
      continue;
    }
    // the producer computes the whole tail in its epilogue and writes the group's output; the
    // program's other tensors become its inputs from EPILOGUE_SLOT on (optional slots before it empty)
    const producer = replace.get(host.node) ?? host.node;
    const extras = fused.inputs.filter((_, i) => i !== host.input);
    let attrs = producer.attrs.with('kiln_epilogue_steps', hostInputFirst(fused.attrs.strings('steps')!, host.input)).with('kiln_epilogue_constants', fused.attrs.floats('constants', []).slice());
    if (extras.length) attrs = attrs.with('kiln_epilogue_inputs', extras.length);
    const inputs = extras.length ? [...producer.inputs.slice(0, EPILOGUE_SLOT), ...new Array<string>(Math.max(0, EPILOGUE_SLOT - producer.inputs.length)).fill(''), ...extras] : producer.inputs;
    replace.set(host.node, { ...producer, inputs, attrs, outputs: [fused.outputs[0]!] });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
