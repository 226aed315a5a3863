import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { copyCells, rowMajorStrides } from '../common/strided.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Ops whose output shape depends on input values: NonZero, Compress (on its condition), Unique.
 * Those inputs are host inputs, so the session computes them at plan time: from constants, or
 * from graph inputs by planning per fed value; a value computed on the device is refused with
 * UNSUPPORTED_FEATURE (data-dependent shapes). The references are plain loops.
 */

const hostValue = (ctx: KernelContext, slot: number, op: string): AnyTensor => ctx.host[slot] ?? fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs the value of input #${slot}`);

const isTrue = (t: AnyTensor): boolean[] => (t.type === 'string' ? (t.data as string[]).map((s) => s !== '') : Array.from(toNumbers(t), (v) => v !== 0));

// ---- NonZero: the indices of the nonzero elements, one column per element, row-major order.

function nonZero(x: AnyTensor): AnyTensor {
  const flags = isTrue(x);
  const strides = rowMajorStrides(x.dims);
  const at = flags.flatMap((f, i) => (f ? [i] : []));
  const r = x.dims.length;
  const out = new Float64Array(r * at.length);
  at.forEach((flat, j) => {
    for (let d = 0; d < r; d++) out[d * at.length + j] = Math.floor(flat / strides[d]!) % x.dims[d]!;
  });
  return fromNumbers('int64', [r, at.length], out);
}

const nonZeroDefinition: OpDefinition = {
  opType: 'NonZero',
  hostInputs: [0],
  inferOutputs: (inputs, ctx) => {
    requireInput(inputs, 0, ctx);
    return [metaOf(nonZero(hostValue(ctx, 0, 'NonZero')))];
  },
  reference: (inputs) => [nonZero(inputs[0]!)],
};

// ---- Compress: the slices along `axis` (or the elements of the flattened input) whose condition is true.

interface CompressLayout {
  readonly out: TensorMeta;
  readonly selected: readonly number[];
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
}

function compressLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): CompressLayout {
  const x = requireInput(inputs, 0, ctx);
  const c = requireInput(inputs, 1, ctx);
  requireType(c, ['bool'], ctx, 'condition');
  if (c.dims.length !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Compress condition must be 1-D, got dims [${c.dims.join(', ')}]`);
  const a = ctx.attrs.int('axis');
  const axis = a === undefined ? undefined : normalizeAxis(a, x.dims.length, ctx);
  const len = axis === undefined ? product(x.dims) : x.dims[axis]!;
  const flags = isTrue(hostValue(ctx, 1, 'Compress'));
  if (flags.length > len) fail('INVALID_GRAPH', `node '${ctx.node}': Compress condition has ${flags.length} entries, more than the ${len} ${axis === undefined ? 'elements' : `slices along axis ${axis}`}`);
  const selected = flags.flatMap((f, i) => (f ? [i] : []));
  if (axis === undefined) return { out: { dtype: x.dtype, dims: [selected.length] }, selected, outer: 1, len, inner: 1 };
  const dims = [...x.dims];
  dims[axis] = selected.length;
  return { out: { dtype: x.dtype, dims }, selected, outer: product(x.dims, 0, axis), len, inner: product(x.dims, axis + 1) };
}

const compress: OpDefinition = {
  opType: 'Compress',
  hostInputs: [1],
  inferOutputs: (inputs, ctx) => [compressLayout(inputs, ctx).out],
  reference(inputs, ctx) {
    const x = inputs[0]!;
    const L = compressLayout([metaOf(x), metaOf(inputs[1]!)], ctx);
    const res = allocData(x.type, product(L.out.dims));
    let w = 0;
    for (let o = 0; o < L.outer; o++) {
      for (const j of L.selected) {
        copyCells(res, w, x.data, (o * L.len + j) * L.inner, L.inner);
        w += L.inner;
      }
    }
    return [new Tensor(x.type, res, L.out.dims)];
  },
};

// ---- Unique: the distinct elements (or slices along `axis`), sorted or in order of first
// occurrence, with each one's first index, the inverse map and the counts.

function unique(x: AnyTensor, ctx: KernelContext): AnyTensor[] {
  const a = ctx.attrs.int('axis');
  const sorted = ctx.attrs.int('sorted', 1) !== 0;
  const axis = a === undefined ? undefined : normalizeAxis(a, x.dims.length, ctx);
  const len = axis === undefined ? x.size : x.dims[axis]!;
  const outer = axis === undefined ? 1 : product(x.dims, 0, axis);
  const inner = axis === undefined ? 1 : product(x.dims, axis + 1);
  const v: readonly (number | string)[] = x.type === 'string' ? (x.data as string[]) : Array.from(toNumbers(x));
  // slice j as a list of its elements, in row-major order
  const slice = (j: number): (number | string)[] => {
    const out: (number | string)[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) out.push(v[(o * len + j) * inner + i]!);
    return out;
  };
  const compare = (p: readonly (number | string)[], q: readonly (number | string)[]): number => {
    for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return p[i]! < q[i]! ? -1 : 1;
    return 0;
  };
  const firsts: number[] = [];
  const keys = new Map<string, number>(); // slice key -> position in `firsts`
  const inverseFirst: number[] = [];
  const counts: number[] = [];
  for (let j = 0; j < len; j++) {
    const key = JSON.stringify(slice(j));
    let u = keys.get(key);
    if (u === undefined) {
      u = firsts.length;
      keys.set(key, u);
      firsts.push(j);
      counts.push(0);
    }
    counts[u]!++;
    inverseFirst.push(u);
  }
  const order = firsts.map((_, u) => u);
  if (sorted) order.sort((p, q) => compare(slice(firsts[p]!), slice(firsts[q]!)));
  const rank = new Array<number>(order.length);
  order.forEach((u, r) => (rank[u] = r));
  const n = order.length;
  const dims = axis === undefined ? [n] : x.dims.map((d, i) => (i === axis ? n : d));
  const y = allocData(x.type, product(dims));
  for (let o = 0; o < outer; o++) {
    order.forEach((u, r) => {
      const src = axis === undefined ? firsts[u]! : (o * len + firsts[u]!) * inner;
      copyCells(y, (o * n + r) * inner, x.data, src, inner);
    });
  }
  return [
    new Tensor(x.type, y, dims),
    fromNumbers('int64', [n], order.map((u) => firsts[u]!)),
    fromNumbers('int64', [len], inverseFirst.map((u) => rank[u]!)),
    fromNumbers('int64', [n], order.map((u) => counts[u]!)),
  ];
}

const uniqueDefinition: OpDefinition = {
  opType: 'Unique',
  hostInputs: [0],
  inferOutputs: (inputs, ctx) => {
    requireInput(inputs, 0, ctx);
    return unique(hostValue(ctx, 0, 'Unique'), ctx).map(metaOf);
  },
  reference: (inputs, ctx) => unique(inputs[0]!, ctx),
};

export const definitions: readonly OpDefinition[] = [nonZeroDefinition, compress, uniqueDefinition];
