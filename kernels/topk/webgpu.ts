import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { topKLayout } from './op.ts';

/**
 * One invocation per line, k selection passes and no scratch memory: pass r picks the first
 * element (in the order value, then index) that comes after pass r-1's pick. O(k n) per line:
 * fine for the k of top-k sampling and detection heads.
 */
const topK: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = topKLayout(inputs, ctx);
  const lines = L.outer * L.inner;
  if (lines === 0 || L.k === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const V = b.output('V', outputs[0]!, 0);
  const I = b.output('I', outputs[1]!, 1);
  const n = b.uniform('lines', 'u32', lines);
  const len = b.uniform('len', 'u32', L.len);
  const inner = b.uniform('inner', 'u32', L.inner);
  const k = b.uniform('k', 'u32', L.k);
  const better = L.largest ? '>' : '<';
  // (v, j) comes before (w, i) in the output order
  b.helper('kiln_before', `fn kiln_before(v: ${X.type}, j: u32, w: ${X.type}, i: u32) -> bool { return v ${better} w || (v == w && j < i); }`);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let base = (global_idx / ${inner}) * ${len} * ${inner} + global_idx % ${inner};`,
    `  let out_base = (global_idx / ${inner}) * ${k} * ${inner} + global_idx % ${inner};`,
    `  var prev_v = ${X.get('base')};`,
    '  var prev_j = 0xffffffffu;',
    `  for (var r = 0u; r < ${k}; r++) {`,
    '    var best_j = 0xffffffffu;',
    `    var best_v = ${X.get('base')};`,
    `    for (var j = 0u; j < ${len}; j++) {`,
    `      let v = ${X.get(`base + j * ${inner}`)};`,
    '      let after = prev_j == 0xffffffffu || kiln_before(prev_v, prev_j, v, j);',
    '      if (after && (best_j == 0xffffffffu || kiln_before(v, j, best_v, best_j))) {',
    '        best_v = v;',
    '        best_j = j;',
    '      }',
    '    }',
    `    ${V.set(`out_base + r * ${inner}`, 'best_v')}`,
    `    ${I.set(`out_base + r * ${inner}`, `${I.type}(best_j)`)}`,
    '    prev_v = best_v;',
    '    prev_j = best_j;',
    '  }',
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `TopK:${ctx.node}`, body, totalInvocations: lines })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'TopK')]: topK };
