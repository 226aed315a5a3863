import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { copyCells, rowMajorStrides } from '../common/strided.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Gather, GatherElements, GatherND: index tensors (int32/int64, negative = from the end) pick data.
 * The CPU code is a plain loop over index entries copying slices, so it is the reference (no js.ts).
 */

type Cells = { [i: number]: number | bigint | string; readonly length: number };
const INDEX_TYPES = ['int32', 'int64'];

function inputsOf(inputs: readonly MaybeMeta[], ctx: KernelContext): [TensorMeta, TensorMeta] {
  const data = requireInput(inputs, 0, ctx);
  const indices = requireInput(inputs, 1, ctx);
  requireType(indices, INDEX_TYPES, ctx, 'indices');
  return [data, indices];
}

/** Resolves a negative index and rejects one out of range (CPU only; the GPU clamps instead). */
function resolveIndex(i: number, n: number, ctx: KernelContext): number {
  const r = i < 0 ? i + n : i;
  if (r < 0 || r >= n) fail('INVALID_ARGUMENT', `node '${ctx.node}': index ${i} is out of range for a dimension of size ${n}`);
  return r;
}

// ---- Gather: out[outer, j, inner] = data[outer, indices[j], inner]

export function gatherLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; axis: number } {
  const [data, indices] = inputsOf(inputs, ctx);
  if (data.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': Gather data must have rank >= 1`);
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), data.dims.length, ctx);
  return { axis, out: { dtype: data.dtype, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)] } };
}

const gather: OpDefinition = {
  opType: 'Gather',
  inferOutputs: (inputs, ctx) => [gatherLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const data = inputs[0]!;
    const idx = toNumbers(inputs[1]!);
    const { out, axis } = gatherLayout([metaOf(data), metaOf(inputs[1]!)], ctx);
    const n = data.dims[axis]!;
    const outer = product(data.dims, 0, axis);
    const inner = product(data.dims, axis + 1);
    const res = allocData(data.type, product(out.dims));
    const resolved = Array.from(idx, (i) => resolveIndex(i, n, ctx));
    let k = 0;
    for (let r = 0; r < outer; r++) {
      for (const j of resolved) {
        copyCells(res, k, data.data, (r * n + j) * inner, inner);
        k += inner;
      }
    }
    return [new Tensor(data.type, res, out.dims)];
  },
};

// ---- GatherElements: out[idx] = data[idx with idx[axis] = indices[idx]]

export function elementsLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; axis: number } {
  const [data, indices] = inputsOf(inputs, ctx);
  if (indices.dims.length !== data.dims.length || data.dims.length === 0) {
    fail('INVALID_GRAPH', `node '${ctx.node}': GatherElements indices rank ${indices.dims.length} must equal data rank ${data.dims.length} (>= 1)`);
  }
  return { axis: normalizeAxis(ctx.attrs.int('axis', 0), data.dims.length, ctx), out: { dtype: data.dtype, dims: indices.dims } };
}

const gatherElements: OpDefinition = {
  opType: 'GatherElements',
  inferOutputs: (inputs, ctx) => [elementsLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const data = inputs[0]!;
    const indices = inputs[1]!;
    const { out, axis } = elementsLayout([metaOf(data), metaOf(indices)], ctx);
    const idx = toNumbers(indices);
    const ds = rowMajorStrides(data.dims);
    const is = rowMajorStrides(indices.dims);
    const res = allocData(data.type, idx.length);
    const o: Cells = res;
    const s: Cells = data.data;
    const rank = data.dims.length;
    for (let k = 0; k < idx.length; k++) {
      let rest = k;
      let off = 0;
      for (let d = 0; d < rank; d++) {
        const q = Math.floor(rest / is[d]!);
        rest -= q * is[d]!;
        off += (d === axis ? resolveIndex(idx[k]!, data.dims[axis]!, ctx) : q) * ds[d]!;
      }
      o[k] = s[off]!;
    }
    return [new Tensor(data.type, res, out.dims)];
  },
};

// ---- GatherND: each index tuple (last axis of indices) picks a slice of data; batch_dims leading
// axes are shared by data and indices.

interface NdLayout {
  readonly out: TensorMeta;
  readonly batch: number;
  /** index tuples per batch entry */
  readonly tuples: number;
  /** length of one index tuple */
  readonly k: number;
  /** elements of the slice each tuple picks */
  readonly slice: number;
  /** the data axes the tuple indexes: batch_dims .. batch_dims + k */
  readonly first: number;
}

export function ndLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): NdLayout {
  const [data, indices] = inputsOf(inputs, ctx);
  const bd = ctx.attrs.int('batch_dims', 0);
  const q = indices.dims.length;
  const r = data.dims.length;
  const k = indices.dims[q - 1];
  if (q < 1 || r < 1 || k === undefined || bd < 0 || bd >= Math.min(q, r) || k > r - bd) {
    return fail('INVALID_GRAPH', `node '${ctx.node}': GatherND shapes data [${data.dims.join(', ')}], indices [${indices.dims.join(', ')}], batch_dims ${bd} are inconsistent`);
  }
  for (let i = 0; i < bd; i++) {
    if (data.dims[i] !== indices.dims[i]) fail('INVALID_GRAPH', `node '${ctx.node}': GatherND batch dim ${i} differs (${data.dims[i]} vs ${indices.dims[i]})`);
  }
  const dims = [...indices.dims.slice(0, q - 1), ...data.dims.slice(bd + k)];
  return {
    out: { dtype: data.dtype, dims },
    batch: product(data.dims, 0, bd),
    tuples: product(indices.dims, bd, q - 1),
    k,
    slice: product(data.dims, bd + k),
    first: bd,
  };
}

const gatherND: OpDefinition = {
  opType: 'GatherND',
  inferOutputs: (inputs, ctx) => [ndLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const data = inputs[0]!;
    const L = ndLayout([metaOf(data), metaOf(inputs[1]!)], ctx);
    const idx = toNumbers(inputs[1]!);
    const ds = rowMajorStrides(data.dims);
    const batchStride = product(data.dims, L.first);
    const res = allocData(data.type, product(L.out.dims));
    let w = 0;
    for (let bi = 0; bi < L.batch; bi++) {
      for (let t = 0; t < L.tuples; t++) {
        let off = bi * batchStride;
        const tuple = (bi * L.tuples + t) * L.k;
        for (let j = 0; j < L.k; j++) off += resolveIndex(idx[tuple + j]!, data.dims[L.first + j]!, ctx) * ds[L.first + j]!;
        copyCells(res, w, data.data, off, L.slice);
        w += L.slice;
      }
    }
    return [new Tensor(data.type, res, L.out.dims)];
  },
};

export const definitions: readonly OpDefinition[] = [gather, gatherElements, gatherND];
