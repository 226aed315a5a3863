import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { activationOf, applyActivation } from '../common/activation.ts';
import { epilogueDims, epilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';
import { broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * MatMul with numpy semantics: batch dims broadcast, a 1-D first operand is a row vector and a
 * 1-D second operand a column vector (their unit dim is dropped from the output). Our fusion pass
 * may add input 2, a bias of length N added along the last dim, and a fused activation
 * (`kiln_activation`); both are applied in the epilogue. Performance notes: common/tiled-matmul.ts.
 */

const TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;

export interface Strides {
  readonly batchStrides: number[];
  readonly rowStride: number;
  readonly colStride: number;
}

/** The product as one batched GEMM over contiguous operands. */
export interface Problem {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly batchDims: number[];
  readonly outDims: number[];
  readonly a: Strides;
  readonly b: Strides;
  /** bias stride along n (0: a single value broadcast) */
  readonly biasColStride?: number;
}

function batchStrides(batch: readonly number[], matrixSize: number, outBatch: readonly number[]): number[] {
  const shift = outBatch.length - batch.length;
  const strides = new Array<number>(outBatch.length).fill(0);
  let acc = matrixSize;
  for (let e = batch.length - 1; e >= 0; e--) {
    if (batch[e] !== 1) strides[e + shift] = acc;
    acc *= batch[e]!;
  }
  return strides;
}

export function problemOf(a: TensorMeta, b: TensorMeta, bias: TensorMeta | undefined, ctx: KernelContext): Problem {
  if (a.dims.length === 0 || b.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inputs must have rank >= 1, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  const aDims = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bDims = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const M = aDims[aDims.length - 2]!;
  const K = aDims[aDims.length - 1]!;
  const N = bDims[bDims.length - 1]!;
  if (bDims[bDims.length - 2] !== K) {
    fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inner dims differ: [${a.dims.join(', ')}] x [${b.dims.join(', ')}] (${K} vs ${bDims[bDims.length - 2]})`);
  }
  const aBatch = aDims.slice(0, -2);
  const bBatch = bDims.slice(0, -2);
  const batchDims = broadcastShapes([aBatch, bBatch], ctx);
  const outDims = [...batchDims, ...(a.dims.length > 1 ? [M] : []), ...(b.dims.length > 1 ? [N] : [])];
  let biasColStride: number | undefined;
  if (bias) {
    const n = bias.dims.reduce((p, d) => p * d, 1);
    if (n !== N && n !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': fused MatMul bias has ${n} elements, expected ${N} (the last output dim)`);
    biasColStride = n === 1 ? 0 : 1;
  }
  return {
    M,
    N,
    K,
    batchDims,
    outDims,
    a: { batchStrides: batchStrides(aBatch, M * K, batchDims), rowStride: K, colStride: 1 },
    b: { batchStrides: batchStrides(bBatch, K * N, batchDims), rowStride: N, colStride: 1 },
    biasColStride,
  };
}

export function inferMatMul(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  requireType(a, TYPES, ctx, 'first input');
  if (b.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inputs have different types (${a.dtype}, ${b.dtype})`);
  const bias = inputs[2];
  if (bias && bias.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': fused bias type ${bias.dtype} differs from the input type ${a.dtype}`);
  // a FusedElementwise tail the WebGPU fusion pass folded in may read more tensors (epilogue.ts)
  return [{ dtype: a.dtype, dims: epilogueDims(problemOf(a, b, bias, ctx).outDims, inputs, ctx) }];
}

/**
 * The plain reference: one float64 dot product per output element, batch offsets from the strides,
 * then the fused bias and activation.
 */
function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  const [out] = inferMatMul(inputs.map((t) => t && metaOf(t)), ctx);
  const p = problemOf(metaOf(a), metaOf(b), bias && metaOf(bias), ctx);
  const [A, B] = [toNumbers(a), toNumbers(b)];
  const C = bias && toNumbers(bias);
  const act = activationOf(ctx.attrs);
  const batch = p.batchDims.reduce((x, d) => x * d, 1);
  const y = new Float64Array(batch * p.M * p.N);
  for (let z = 0; z < batch; z++) {
    let aOff = 0;
    let bOff = 0;
    for (let d = p.batchDims.length - 1, rest = z; d >= 0; d--) {
      const i = rest % p.batchDims[d]!;
      rest = Math.floor(rest / p.batchDims[d]!);
      aOff += i * p.a.batchStrides[d]!;
      bOff += i * p.b.batchStrides[d]!;
    }
    for (let m = 0; m < p.M; m++) {
      for (let n = 0; n < p.N; n++) {
        let sum = 0;
        for (let k = 0; k < p.K; k++) sum += A[aOff + m * p.a.rowStride + k]! * B[bOff + k * p.b.rowStride + n]!;
        if (C) sum += C[n * p.biasColStride!]!;
        y[(z * p.M + m) * p.N + n] = applyActivation(act, sum);
      }
    }
  }
  // a FusedElementwise tail the WebGPU fusion pass folded in
  return [fromNumbers(out!.dtype, out!.dims, withEpilogue(epilogueOf(ctx.attrs, ctx.node), y, p.outDims, inputs))];
}

export const definitions: readonly OpDefinition[] = [{ opType: 'MatMul', inferOutputs: inferMatMul, reference }];
