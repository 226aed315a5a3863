import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES } from '../common/shape.ts';
import type { KernelContext, TensorMeta } from '../contract.ts';

// The math of every broadcasting binary op, the CPU and WGSL forms side by side: the reference
// (op.ts) and the WebGPU lowering (webgpu.ts) both read this table.

/** Broadcasting binary ops: arithmetic (output keeps the input type) and comparisons (output bool). */
export interface BinarySpec {
  readonly opType: string;
  readonly types: readonly DataType[];
  readonly comparison?: boolean;
  /** the second input may have a different type (Pow's exponent) */
  readonly mixedTypes?: boolean;
  /** an attribute choice that changes the code (Mod's fmod, BitShift's direction) */
  readonly mode?: (ctx: KernelContext) => string;
  readonly cpu: (a: number, b: number, integer: boolean, mode: string, bits: number) => number;
  /** exact path for int64/uint64, whose values a JS number may not hold */
  readonly cpuBig?: (a: bigint, b: bigint, mode: string) => bigint;
  /** WGSL expression over `a`, `b` (already in the compute type `T`) */
  readonly wgsl: (type: string, mode: string) => string;
  /** the result may leave a narrow integer range (uint8 left shift): wrap it as the type would */
  readonly wraps?: boolean;
  /** dims the second input broadcasts with, when not its own (PRelu before opset 7) */
  readonly alignB?: (a: TensorMeta, b: TensorMeta, ctx: KernelContext) => readonly number[];
}

const INT_DIV = (a: number, b: number, integer: boolean): number => (integer ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b);

const INT_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;
const UINT_TYPES = ['uint8', 'uint16', 'uint32', 'uint64'] as const;
const PRELU_TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;

function modMode(ctx: KernelContext): string {
  const fmod = ctx.attrs.int('fmod', 0);
  if (fmod !== 0 && fmod !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Mod fmod must be 0 or 1, got ${fmod}`);
  return fmod ? 'fmod' : 'floor';
}

// JS % is C's truncated remainder (also for floats); floor mode moves it to the divisor's sign.
function mod(a: number, b: number, _integer: boolean, m: string): number {
  const r = a % b;
  return m === 'fmod' || r === 0 || r < 0 === b < 0 ? r : r + b;
}
function modBig(a: bigint, b: bigint, m: string): bigint {
  if (b === 0n) return 0n;
  const r = a % b;
  return m === 'fmod' || r === 0n || r < 0n === b < 0n ? r : r + b;
}
export const modHelper = (t: string): string => `fn kiln_mod_${t}(a: ${t}, b: ${t}) -> ${t} {
  let r = a % b;
  return select(r, r + b, r != ${t}(0) && ((r < ${t}(0)) != (b < ${t}(0))));
}`;

function shiftDirection(ctx: KernelContext): string {
  const d = ctx.attrs.string('direction');
  if (d !== 'LEFT' && d !== 'RIGHT') fail('INVALID_GRAPH', `node '${ctx.node}': BitShift direction must be 'LEFT' or 'RIGHT', got '${d ?? '(none)'}'`);
  return d;
}
// Shifting by the type's width or more gives 0 (JS and WGSL would mask the count instead).
function shift(a: number, b: number, _integer: boolean, m: string, bits: number): number {
  if (b >= bits) return 0;
  return m === 'LEFT' ? a * 2 ** b : Math.floor(a / 2 ** b);
}
function shiftBig(a: bigint, b: bigint, m: string): bigint {
  if (b >= 64n) return 0n;
  return m === 'LEFT' ? BigInt.asUintN(64, a << b) : a >> b;
}

// PRelu-6 and older: a 1-D slope of size C is per channel (axis 1), not numpy-broadcast.
function preluSlopeDims(x: TensorMeta, slope: TensorMeta, ctx: KernelContext): readonly number[] {
  if (ctx.opset >= 7 || slope.dims.length !== 1 || x.dims.length < 2 || slope.dims[0] === 1 || slope.dims[0] !== x.dims[1]) return slope.dims;
  return [slope.dims[0]!, ...new Array<number>(x.dims.length - 2).fill(1)];
}

export const BITS: Partial<Record<DataType, number>> = { uint8: 8, uint16: 16, uint32: 32 };

// ONNX Pow follows C pow(): a negative base with an integral exponent is defined, with a fractional
// one it is NaN. WGSL pow() is undefined for x <= 0 (SwiftShader returns pow(|x|, y) and a finite
// log(0)), so those cases are spelled out. Infinity and NaN are built from a runtime value because
// WGSL rejects them as constants.
export const POW_HELPER = `fn kiln_pow(a: f32, b: f32) -> f32 {
  let zero_bits = bitcast<u32>(b) & 0u;
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, bitcast<f32>(0x7f800000u | zero_bits), b < 0.0); }
  if (a > 0.0) { return pow(a, b); }
  if (b != floor(b) || a != a) { return bitcast<f32>(0x7fc00000u | zero_bits); }
  let m = pow(-a, b);
  return select(m, -m, (i32(b) & 1) == 1);
}`;

export const BINARY_SPECS: readonly BinarySpec[] = [
  // int64/uint64 in bigint, wrapping as two's complement when stored (as onnxruntime's int64 math
  // does); integer Mul of 32 bits and less through Math.imul, whose low 32 bits are exact where a
  // double product above 2^53 would not be. Sums of 32-bit values stay below 2^53, so they are exact.
  { opType: 'Add', types: NUMERIC_TYPES, cpu: (a, b) => a + b, cpuBig: (a, b) => a + b, wgsl: () => 'a + b' },
  { opType: 'Sub', types: NUMERIC_TYPES, cpu: (a, b) => a - b, cpuBig: (a, b) => a - b, wgsl: () => 'a - b' },
  { opType: 'Mul', types: NUMERIC_TYPES, cpu: (a, b, integer) => (integer ? Math.imul(a, b) : a * b), cpuBig: (a, b) => a * b, wgsl: () => 'a * b' },
  { opType: 'Div', types: NUMERIC_TYPES, cpu: INT_DIV, cpuBig: (a, b) => (b === 0n ? 0n : a / b), wgsl: (t) => (t === 'f32' ? 'a / b' : `select(a / b, ${t}(0), b == ${t}(0))`) },
  { opType: 'Pow', types: NUMERIC_TYPES, mixedTypes: true, cpu: (a, b) => Math.pow(a, b), wgsl: (t) => (t === 'f32' ? 'kiln_pow(a, b)' : `${t}(round(kiln_pow(f32(a), f32(b))))`) },
  // string Equal runs on the CPU (strings have no GPU storage)
  { opType: 'Equal', types: [...NUMERIC_TYPES, 'bool', 'string'], comparison: true, cpu: (a, b) => +(a === b), wgsl: () => 'a == b' },
  { opType: 'Less', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a < b), wgsl: () => 'a < b' },
  { opType: 'LessOrEqual', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a <= b), wgsl: () => 'a <= b' },
  { opType: 'Greater', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a > b), wgsl: () => 'a > b' },
  { opType: 'GreaterOrEqual', types: NUMERIC_TYPES, comparison: true, cpu: (a, b) => +(a >= b), wgsl: () => 'a >= b' },
  { opType: 'And', types: ['bool'], comparison: true, cpu: (a, b) => +(a !== 0 && b !== 0), wgsl: () => '(a != 0u) && (b != 0u)' },
  { opType: 'Or', types: ['bool'], comparison: true, cpu: (a, b) => +(a !== 0 || b !== 0), wgsl: () => '(a != 0u) || (b != 0u)' },
  { opType: 'Xor', types: ['bool'], comparison: true, cpu: (a, b) => +((a !== 0) !== (b !== 0)), wgsl: () => '(a != 0u) != (b != 0u)' },
  // fmod=0: the result takes the divisor's sign (Python %); fmod=1: the dividend's (C fmod).
  { opType: 'Mod', types: NUMERIC_TYPES, mode: modMode, cpu: mod, cpuBig: modBig, wgsl: (t, m) => (m === 'fmod' ? 'a % b' : `kiln_mod_${t}(a, b)`) },
  { opType: 'PRelu', types: PRELU_TYPES, alignB: preluSlopeDims, cpu: (a, b) => (a < 0 ? a * b : a), wgsl: (t) => `select(a, a * b, a < ${t}(0))` },
  { opType: 'BitShift', types: UINT_TYPES, mode: shiftDirection, cpu: shift, cpuBig: shiftBig, wgsl: (_, m) => (m === 'LEFT' ? 'select(0u, a << b, b < 32u)' : 'select(0u, a >> b, b < 32u)'), wraps: true },
  { opType: 'BitwiseAnd', types: INT_TYPES, cpu: (a, b) => a & b, cpuBig: (a, b) => a & b, wgsl: () => 'a & b' },
  { opType: 'BitwiseOr', types: INT_TYPES, cpu: (a, b) => a | b, cpuBig: (a, b) => a | b, wgsl: () => 'a | b' },
  { opType: 'BitwiseXor', types: INT_TYPES, cpu: (a, b) => a ^ b, cpuBig: (a, b) => a ^ b, wgsl: () => 'a ^ b' },
];

export function isIntegral(t: DataType): boolean {
  return t !== 'float32' && t !== 'float16' && t !== 'float64';
}
