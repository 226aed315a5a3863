import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { rowWorkgroupSize, workgroupArgReduce, workgroupReduce, wgslLowest } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { inferSoftmax, rowsOf, type Kind } from './op.ts';

/**
 * Rows shorter than this get one invocation each; longer rows get a workgroup. Software adapters
 * always take one invocation per row: a workgroup runs on one CPU thread there and its barriers
 * cost a fiber switch per invocation (see kernels/reduce.ts).
 */
const WORKGROUP_ROW_MIN = 64;

function lowering(kind: Kind): WebGpuKernel {
  return (inputs, outputs, ctx) => {
    const x = inferSoftmax(inputs, ctx, kind);
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
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries((['Softmax', 'LogSoftmax', 'Hardmax'] as const).map((k) => [opKey('', k), lowering(k)]));
