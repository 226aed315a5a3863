import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel, WasmStep } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { viewStep } from '../reshape/wasm.ts';
import { ARENA_DTYPE_BYTES } from '../wasm/typed.ts';
import { clipAttrBounds } from './op.ts';
import { unarySpecOf } from './unary-math.ts';

/** Op codes of kiln_unary_f32 (kernels/wasm/src/eltwise-unary.c): keep in step with its enum. */
export const UNARY_CODES: Readonly<Record<string, number>> = {
  Relu: 0, LeakyRelu: 1, Sigmoid: 2, Tanh: 3, Gelu: 4, Erf: 6, Exp: 7, Neg: 8, Abs: 9,
  Sqrt: 10, Reciprocal: 11, HardSigmoid: 12, HardSwish: 13, Clip: 14, Softsign: 15,
  Floor: 18, Ceil: 19, Round: 20, ThresholdedRelu: 21, Log: 22,
};
/** Pow with a constant exponent of 2 or 3 (kernels/elementwise-binary/wasm.ts) */
export const SQUARE_CODE = 16;
export const CUBE_CODE = 17;
const GELU_TANH = 5;

/** Elements per unit of kiln_unary_part_f32 (kernels/wasm/src/eltwise-unary.c UNARY_BLOCK). */
export const UNARY_BLOCK = 2048;
/**
 * The ops whose math, not memory, sets their speed, and about how many GEMM multiply-adds one element
 * costs (the pool's work measure): Gelu / Erf ~60 (erfc: a division, a 9-term polynomial, an exp;
 * Gelu over 32,768 values 0.128 ms against ~15 GMAC/s), the exp-based ones ~20. Over the pool's
 * threshold they run on the pool, where its split choice times both ways; cheap ops stay one pass.
 */
const UNARY_COST: Readonly<Record<number, number>> = { 4: 60, 6: 60, 5: 25, 2: 20, 3: 20, 7: 15, 22: 15 };

/** One pass over the tensor (costly ops on the pool); the export is looked up at session start, so a stale module fails there. */
export function unaryStep(code: number, n: number, params: readonly number[]): WasmStep {
  const [p0, p1] = [params[0] ?? 0, params[1] ?? 0];
  const elementwise = { kind: 'unary', code, params: [p0, p1] } as const;
  const cost = UNARY_COST[code];
  if (cost === undefined) return singleExportStep('kiln_unary_f32', (at) => [code, at.inputs[0]!, at.outputs[0]!, n, p0, p1], { elementwise });
  return {
    elementwise,
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [],
    run(k, at) {
      const args = [code, at.inputs[0]!, at.outputs[0]!, n, p0, p1];
      k.parallelRows('kiln_unary_part_f32', { args, floats: (1 << 4) | (1 << 5), rows: Math.ceil(n / UNARY_BLOCK), scratchArg: 1, scratchStride: 0, work: n * cost });
    },
  };
}

const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

function lowerUnary(opType: string, contrib: boolean): WasmKernel {
  const spec = unarySpecOf(opType);
  return (inputs, outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32') return undefined;
    const mode = contrib ? 'none' : (spec.mode?.(ctx) ?? '');
    const code = opType === 'Gelu' && mode === 'tanh' ? GELU_TANH : UNARY_CODES[opType]!;
    return unaryStep(code, count(outputs[0]!.dims), spec.params?.(ctx) ?? []);
  };
}

/** Clip with bounds from attributes or constant scalar inputs; run-time bounds (and min > max, whose NaN rule differs) decline. */
const clip: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[0]?.dtype !== 'float32') return undefined;
  let [lo, hi] = ctx.opset < 11 ? clipAttrBounds(ctx) : [-Infinity, Infinity];
  for (const slot of [1, 2]) {
    if (!inputs[slot]) continue;
    const c = ctx.constants[slot];
    if (!c || c.type !== 'float32') return undefined;
    const v = (c.data as Float32Array)[0]!;
    if (slot === 1) lo = v;
    else hi = v;
  }
  if (!(lo <= hi)) return undefined;
  return unaryStep(UNARY_CODES.Clip!, count(outputs[0]!.dims), [lo, hi]);
};

export const wasm: ImplementationTable<WasmKernel> = {
  ...Object.fromEntries(Object.keys(UNARY_CODES).filter((op) => op !== 'Clip').map((op) => [opKey('', op), lowerUnary(op, false)])),
  [opKey('com.microsoft', 'Gelu')]: lowerUnary('Gelu', true),
  [opKey('', 'Clip')]: clip,
  // Identity's output is its input: a view, as on the GPU
  [opKey('', 'Identity')]: (inputs) => (inputs[0] && ARENA_DTYPE_BYTES[inputs[0].dtype] !== undefined ? viewStep : undefined),
};
