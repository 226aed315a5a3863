import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { toNumbers } from '../common/values.ts';
import { ShaderBuilder, stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuLowering } from '../webgpu/contract.ts';

/** Gather, GatherElements, GatherND: index tensors (int32/int64, negative = from the end) pick data. */

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

/** WGSL: the index read from `expr`, made non-negative and clamped to [0, n) (WGSL cannot throw). */
const wgslIndex = (expr: string, n: string): string => `u32(clamp(select(${expr}, ${expr} + i32(${n}), ${expr} < 0), 0, i32(${n}) - 1))`;

const metaOf = (t: AnyTensor): TensorMeta => ({ dtype: t.type, dims: t.dims });

// ---- Gather: out[outer, j, inner] = data[outer, indices[j], inner]

function gatherLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; axis: number } {
  const [data, indices] = inputsOf(inputs, ctx);
  if (data.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': Gather data must have rank >= 1`);
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), data.dims.length, ctx);
  return { axis, out: { dtype: data.dtype, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)] } };
}

const gather: LegacyOpKernel = {
  opType: 'Gather',
  inferOutputs: (inputs, ctx) => [gatherLayout(inputs, ctx).out],
  cpu(inputs, ctx): AnyTensor[] {
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
  webgpu(inputs, outputs, ctx): GpuLowering {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const out = outputs[0]!;
    const { axis } = gatherLayout(inputs, ctx);
    const b = new ShaderBuilder(ctx.caps);
    const D = b.input('D', data, 0);
    const I = b.input('I', indices, 1);
    const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
    const total = product(out.dims);
    const n = b.uniform('n', 'u32', total);
    const inner = b.uniform('inner', 'u32', product(data.dims, axis + 1));
    const count = b.uniform('count', 'u32', product(indices.dims));
    const axisLen = b.uniform('axis_len', 'u32', data.dims[axis]!);
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let i = global_idx % ${inner};`,
      `  let j = (global_idx / ${inner}) % ${count};`,
      `  let o = global_idx / (${inner} * ${count});`,
      `  let raw = i32(${I.get('j')});`,
      `  let k = ${wgslIndex('raw', axisLen)};`,
      `  ${Y.set('global_idx', D.get(`(o * ${axisLen} + k) * ${inner} + i`))}`,
    ].join('\n');
    return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `Gather:${ctx.node}`, body, totalInvocations: total })] };
  },
};

// ---- GatherElements: out[idx] = data[idx with idx[axis] = indices[idx]]

function elementsLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; axis: number } {
  const [data, indices] = inputsOf(inputs, ctx);
  if (indices.dims.length !== data.dims.length || data.dims.length === 0) {
    fail('INVALID_GRAPH', `node '${ctx.node}': GatherElements indices rank ${indices.dims.length} must equal data rank ${data.dims.length} (>= 1)`);
  }
  return { axis: normalizeAxis(ctx.attrs.int('axis', 0), data.dims.length, ctx), out: { dtype: data.dtype, dims: indices.dims } };
}

const gatherElements: LegacyOpKernel = {
  opType: 'GatherElements',
  inferOutputs: (inputs, ctx) => [elementsLayout(inputs, ctx).out],
  cpu(inputs, ctx): AnyTensor[] {
    const data = inputs[0]!;
    const indices = inputs[1]!;
    const { out, axis } = elementsLayout([metaOf(data), metaOf(indices)], ctx);
    const idx = toNumbers(indices);
    const ds = stridesOf(data.dims);
    const is = stridesOf(indices.dims);
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
  webgpu(inputs, outputs, ctx): GpuLowering {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const { axis } = elementsLayout(inputs, ctx);
    const out = outputs[0]!;
    const b = new ShaderBuilder(ctx.caps);
    const D = b.input('D', data, 0);
    const I = b.input('I', indices, 1);
    const Y = b.output('Y', out);
    const total = product(out.dims);
    const n = b.uniform('n', 'u32', total);
    const terms = data.dims.map((_, d) => (d === axis ? `k * ${D.stride(d)}` : `idx[${d}] * ${D.stride(d)}`)).join(' + ');
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let idx = ${Y.offsetToIndices('global_idx')};`,
      `  let raw = i32(${I.get('global_idx')});`,
      `  let k = ${wgslIndex('raw', D.shape(axis))};`,
      `  ${Y.set('global_idx', D.get(terms))}`,
    ].join('\n');
    return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `GatherElements:${ctx.node}`, body, totalInvocations: total })] };
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

function ndLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): NdLayout {
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

const gatherND: LegacyOpKernel = {
  opType: 'GatherND',
  inferOutputs: (inputs, ctx) => [ndLayout(inputs, ctx).out],
  cpu(inputs, ctx): AnyTensor[] {
    const data = inputs[0]!;
    const L = ndLayout([metaOf(data), metaOf(inputs[1]!)], ctx);
    const idx = toNumbers(inputs[1]!);
    const ds = stridesOf(data.dims);
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
  webgpu(inputs, outputs, ctx): GpuLowering {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const L = ndLayout(inputs, ctx);
    const out = outputs[0]!;
    const b = new ShaderBuilder(ctx.caps);
    const D = b.input('D', data, 0);
    const I = b.input('I', indices, 1);
    const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
    const total = product(out.dims);
    const n = b.uniform('n', 'u32', total);
    const slice = b.uniform('slice', 'u32', L.slice);
    const tuples = b.uniform('tuples', 'u32', L.tuples);
    const batchStride = b.uniform('batch_stride', 'u32', product(data.dims, L.first));
    const first = b.uniform('first', 'u32', L.first);
    const k = b.uniform('k', 'u32', L.k);
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let i = global_idx % ${slice};`,
      `  let tuple = global_idx / ${slice};`,
      `  var off = (tuple / ${tuples}) * ${batchStride} + i;`,
      `  for (var j = 0u; j < ${k}; j++) {`,
      `    let raw = i32(${I.get(`tuple * ${k} + j`)});`,
      `    off += ${wgslIndex('raw', D.shape(`${first} + j`))} * ${D.stride(`${first} + j`)};`,
      '  }',
      `  ${Y.set('global_idx', D.get('off'))}`,
    ].join('\n');
    return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `GatherND:${ctx.node}`, body, totalInvocations: total })] };
  },
};

export const kernels: readonly LegacyOpKernel[] = [gather, gatherElements, gatherND];
