import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { rowWorkgroupSize, workgroupArgReduce, workgroupReduce, wgslLowest } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

type Kind = 'Softmax' | 'LogSoftmax' | 'Hardmax';

/**
 * Every op here works on "rows": the elements along the axis for one position of the other dims.
 * Row r starts at (r / inner) * len * inner + r % inner and steps by `inner`. Before opset 13 the
 * input is coerced to 2-D at `axis`, which is the same with len = product(dims[axis:]), inner = 1.
 */
interface Rows {
  readonly rows: number;
  readonly len: number;
  readonly inner: number;
}

function rowsOf(x: TensorMeta, ctx: KernelContext, opType: Kind): Rows {
  const rank = x.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 1, got a scalar`);
  const total = product(x.dims);
  if (ctx.opset < 13) {
    const given = ctx.attrs.int('axis', 1);
    // the 2-D coercion accepts axis == rank (a single row per element)
    const axis = given === rank || given === -rank - 1 ? rank : normalizeAxis(given, rank, ctx);
    const len = product(x.dims, axis);
    return { rows: len === 0 ? 0 : total / len, len, inner: 1 };
  }
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), rank, ctx);
  const len = x.dims[axis]!;
  return { rows: len === 0 ? 0 : total / len, len, inner: product(x.dims, axis + 1) };
}

function infer(inputs: readonly MaybeMeta[], ctx: KernelContext, opType: Kind): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  rowsOf(x, ctx, opType);
  return { dtype: x.dtype, dims: x.dims };
}

function cpuRows(kind: Kind, xv: Float64Array, { rows, len, inner }: Rows): Float64Array {
  const out = new Float64Array(xv.length);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / inner) * len * inner + (r % inner);
    let max = -Infinity;
    let at = 0;
    for (let j = 0; j < len; j++) {
      const v = xv[base + j * inner]!;
      if (v > max) {
        max = v;
        at = j;
      }
    }
    if (kind === 'Hardmax') {
      out[base + at * inner] = 1;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < len; j++) sum += Math.exp(xv[base + j * inner]! - max);
    const logSum = Math.log(sum);
    for (let j = 0; j < len; j++) {
      const o = base + j * inner;
      out[o] = kind === 'Softmax' ? Math.exp(xv[o]! - max) / sum : xv[o]! - max - logSum;
    }
  }
  return out;
}

/**
 * Rows shorter than this get one invocation each; longer rows get a workgroup. Software adapters
 * always take one invocation per row: a workgroup runs on one CPU thread there and its barriers
 * cost a fiber switch per invocation (see kernels/reduce.ts).
 */
const WORKGROUP_ROW_MIN = 64;

function makeKernel(kind: Kind): LegacyOpKernel {
  return {
    opType: kind,
    inferOutputs: (inputs, ctx) => [infer(inputs, ctx, kind)],
    cpu(inputs, ctx) {
      const x = inputs[0]!;
      const out = infer([metaOf(x)], ctx, kind);
      return [fromNumbers(out.dtype, out.dims, cpuRows(kind, toNumbers(x), rowsOf(out, ctx, kind)))];
    },
    webgpu(inputs, outputs, ctx) {
      const x = infer(inputs, ctx, kind);
      const { rows, len, inner } = rowsOf(x, ctx, kind);
      if (rows === 0) return undefined;
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', x, 0);
      const Y = b.output('Y', outputs[0]!);
      const nRows = b.uniform('n_rows', 'u32', rows);
      const L = b.uniform('len', 'u32', len);
      const inn = b.uniform('inner', 'u32', inner);
      const lowest = wgslLowest(b, 'f32');
      const label = `${kind}:${ctx.node}`;
      const baseOf = (row: string): string => `(${row} / ${inn}) * ${L} * ${inn} + ${row} % ${inn}`;
      const at = (j: string): string => `base + ${j} * ${inn}`;
      const write = (j: string): string =>
        kind === 'Softmax' ? Y.set(at(j), `exp(${X.get(at(j))} - mx) / sum`) : kind === 'LogSoftmax' ? Y.set(at(j), `${X.get(at(j))} - mx - log(sum)`) : Y.set(at(j), `select(0.0, 1.0, ${j} == best)`);
      if (len < WORKGROUP_ROW_MIN || ctx.caps.software) {
        const body = [
          `  if (global_idx >= ${nRows}) { return; }`,
          `  let base = ${baseOf('global_idx')};`,
          `  var mx = ${lowest};`,
          '  var best = 0u;',
          `  for (var j = 0u; j < ${L}; j++) { let v = ${X.get(at('j'))}; if (v > mx) { mx = v; best = j; } }`,
          kind === 'Hardmax' ? '' : `  var sum = 0.0;\n  for (var j = 0u; j < ${L}; j++) { sum += exp(${X.get(at('j'))} - mx); }`,
          `  for (var j = 0u; j < ${L}; j++) { ${write('j')} }`,
        ].join('\n');
        return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: rows })] };
      }
      // One workgroup per row: strided loads, then max and sum combined in shared memory.
      const wg = rowWorkgroupSize(len, ctx.caps);
      const head = ['  let row = workgroup_idx;', `  if (row >= ${nRows}) { return; }`, `  let base = ${baseOf('row')};`];
      let body: string[];
      if (kind === 'Hardmax') {
        const arg = workgroupArgReduce(b, 'max', 'f32', wg, false);
        body = [
          ...head,
          `  var mx = ${lowest};`,
          '  var first = 0xffffffffu;',
          `  for (var j = local_idx; j < ${L}; j += ${wg}u) { let v = ${X.get(at('j'))}; if (first == 0xffffffffu || v > mx) { mx = v; first = j; } }`,
          `  let best = ${arg}(local_idx, mx, first);`,
          `  for (var j = local_idx; j < ${L}; j += ${wg}u) { ${write('j')} }`,
        ];
      } else {
        const wgMax = workgroupReduce(b, 'max', 'f32', wg);
        const wgSum = workgroupReduce(b, 'sum', 'f32', wg);
        body = [
          ...head,
          `  var m = ${lowest};`,
          `  for (var j = local_idx; j < ${L}; j += ${wg}u) { m = max(m, ${X.get(at('j'))}); }`,
          `  let mx = ${wgMax}(local_idx, m);`,
          '  var s = 0.0;',
          `  for (var j = local_idx; j < ${L}; j += ${wg}u) { s += exp(${X.get(at('j'))} - mx); }`,
          `  let sum = ${wgSum}(local_idx, s);`,
          `  for (var j = local_idx; j < ${L}; j += ${wg}u) { ${write('j')} }`,
        ];
      }
      return { kind: 'programs', programs: [b.build({ label, body: body.join('\n'), totalInvocations: rows * wg, workgroupSize: wg })] };
    },
  };
}

export const kernels: readonly LegacyOpKernel[] = [makeKernel('Softmax'), makeKernel('LogSoftmax'), makeKernel('Hardmax')];
