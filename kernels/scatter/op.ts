import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, normalizeAxis, product, requireInput, requireType, sameDims } from '../common/shape.ts';
import { copyCells, rowMajorStrides } from '../common/strided.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * ScatterND, ScatterElements (and its opset-9 name Scatter): the output is a copy of data with the
 * updates written (or combined, per `reduction`) at the places the indices name, in the order the
 * updates come (a later duplicate index wins with reduction 'none'). Negative indices count from
 * the end; one out of range is an error on the CPU (the GPU cannot throw: it skips that update).
 */

export type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
const REDUCTIONS: readonly Reduction[] = ['none', 'add', 'mul', 'max', 'min'];

export function reductionOf(ctx: KernelContext, data: TensorMeta): Reduction {
  const r = ctx.attrs.string('reduction', 'none');
  if (!REDUCTIONS.includes(r as Reduction)) fail('INVALID_GRAPH', `node '${ctx.node}': reduction '${r}' is not one of ${REDUCTIONS.join(', ')}`);
  if (r !== 'none') requireType(data, NUMERIC_TYPES, ctx, `data (reduction '${r}')`);
  return r as Reduction;
}

export function combine(r: Reduction, a: number, u: number): number {
  switch (r) {
    case 'none': return u;
    case 'add': return a + u;
    case 'mul': return a * u;
    case 'max': return Math.max(a, u);
    case 'min': return Math.min(a, u);
  }
}

function resolveIndex(i: number, n: number, ctx: KernelContext): number {
  const r = i < 0 ? i + n : i;
  if (!(r >= 0 && r < n)) fail('INVALID_ARGUMENT', `node '${ctx.node}': index ${i} is out of range for a dimension of size ${n}`);
  return r;
}

/** Applies `writes` (element offset in data, element index in updates) in order: the shared CPU core. */
function scatterCells(data: AnyTensor, updates: AnyTensor, r: Reduction, writes: (emit: (dst: number, src: number) => void) => void): AnyTensor {
  if (r === 'none') {
    const res = allocData(data.type, data.size);
    copyCells(res, 0, data.data, 0, data.size);
    writes((dst, src) => copyCells(res, dst, updates.data, src, 1));
    return new Tensor(data.type, res, data.dims);
  }
  const res = toNumbers(data);
  const u = toNumbers(updates);
  writes((dst, src) => {
    res[dst] = combine(r, res[dst]!, u[src]!);
  });
  return fromNumbers(data.type, data.dims, res);
}

// ---- ScatterND: each index tuple (last axis of indices, length k) names a slice data[t0..tk-1, ...].

export interface NdScatterLayout {
  readonly out: TensorMeta;
  readonly tuples: number;
  readonly k: number;
  /** elements per slice */
  readonly slice: number;
  readonly reduction: Reduction;
}

export function ndScatterLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): NdScatterLayout {
  const data = requireInput(inputs, 0, ctx);
  const indices = requireInput(inputs, 1, ctx);
  const updates = requireInput(inputs, 2, ctx);
  requireType(indices, ['int64', 'int32'], ctx, 'indices');
  if (updates.dtype !== data.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': updates type ${updates.dtype} differs from data type ${data.dtype}`);
  const q = indices.dims.length;
  const k = indices.dims[q - 1];
  const r = data.dims.length;
  if (q < 1 || r < 1 || k === undefined || k > r) {
    return fail('INVALID_GRAPH', `node '${ctx.node}': ScatterND indices [${indices.dims.join(', ')}] do not fit data [${data.dims.join(', ')}]`);
  }
  const want = [...indices.dims.slice(0, q - 1), ...data.dims.slice(k)];
  if (!sameDims(updates.dims, want)) fail('INVALID_GRAPH', `node '${ctx.node}': ScatterND updates have dims [${updates.dims.join(', ')}], expected [${want.join(', ')}]`);
  return { out: { dtype: data.dtype, dims: data.dims }, tuples: product(indices.dims, 0, q - 1), k, slice: product(data.dims, k), reduction: reductionOf(ctx, data) };
}

const scatterND: OpDefinition = {
  opType: 'ScatterND',
  inferOutputs: (inputs, ctx) => [ndScatterLayout(inputs, ctx).out],
  reference(inputs, ctx) {
    const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const L = ndScatterLayout([metaOf(data), metaOf(indices), metaOf(updates)], ctx);
    const idx = toNumbers(indices);
    const ds = rowMajorStrides(data.dims);
    return [scatterCells(data, updates, L.reduction, (emit) => {
      for (let t = 0; t < L.tuples; t++) {
        let off = 0;
        for (let j = 0; j < L.k; j++) off += resolveIndex(idx[t * L.k + j]!, data.dims[j]!, ctx) * ds[j]!;
        for (let i = 0; i < L.slice; i++) emit(off + i, t * L.slice + i);
      }
    })];
  },
};

// ---- ScatterElements: out[idx with idx[axis] = indices[idx]] = updates[idx], idx over indices' shape.

export interface ElementsScatterLayout {
  readonly out: TensorMeta;
  readonly axis: number;
  readonly reduction: Reduction;
}

export function elementsScatterLayout(inputs: readonly MaybeMeta[], ctx: KernelContext, opType: string): ElementsScatterLayout {
  const data = requireInput(inputs, 0, ctx);
  const indices = requireInput(inputs, 1, ctx);
  const updates = requireInput(inputs, 2, ctx);
  requireType(indices, ['int64', 'int32'], ctx, 'indices');
  if (updates.dtype !== data.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': updates type ${updates.dtype} differs from data type ${data.dtype}`);
  const r = data.dims.length;
  if (r < 1 || indices.dims.length !== r) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} indices rank ${indices.dims.length} must equal data rank ${r} (>= 1)`);
  if (!sameDims(indices.dims, updates.dims)) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} updates dims [${updates.dims.join(', ')}] differ from indices dims [${indices.dims.join(', ')}]`);
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), r, ctx);
  indices.dims.forEach((d, i) => {
    if (i !== axis && d > data.dims[i]!) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} indices dim ${i} (${d}) exceeds data's (${data.dims[i]})`);
  });
  return { out: { dtype: data.dtype, dims: data.dims }, axis, reduction: reductionOf(ctx, data) };
}

function scatterElementsDefinition(opType: 'ScatterElements' | 'Scatter'): OpDefinition {
  return {
    opType,
    inferOutputs: (inputs, ctx) => [elementsScatterLayout(inputs, ctx, opType).out],
    reference(inputs, ctx) {
      const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
      const L = elementsScatterLayout([metaOf(data), metaOf(indices), metaOf(updates)], ctx, opType);
      const idx = toNumbers(indices);
      const ds = rowMajorStrides(data.dims);
      const is = rowMajorStrides(indices.dims);
      return [scatterCells(data, updates, L.reduction, (emit) => {
        for (let e = 0; e < idx.length; e++) {
          let rest = e;
          let off = 0;
          for (let d = 0; d < is.length; d++) {
            const c = Math.floor(rest / is[d]!);
            rest -= c * is[d]!;
            off += (d === L.axis ? resolveIndex(idx[e]!, data.dims[d]!, ctx) : c) * ds[d]!;
          }
          emit(off, e);
        }
      })];
    },
  };
}

export const definitions: readonly OpDefinition[] = [scatterND, scatterElementsDefinition('ScatterElements'), scatterElementsDefinition('Scatter')];
