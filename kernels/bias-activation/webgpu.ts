import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { addHelpers } from '../elementwise-unary/unary-math.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { BIAS_ACTIVATIONS, biasActivationPlan } from './op.ts';

// The Gelu forms as the unary table writes them (kernels/elementwise-unary/unary-math.ts).
const GELU_TANH = (v: string): string => `${v} * kiln_sigmoid(1.5957691216 * (${v} + 0.044715 * ${v} * ${v} * ${v}))`;
const GELU_ERF = (v: string): string => `0.5 * ${v} * kiln_erfc(-${v} * 0.70710678118)`;

/** One invocation per output element. */
const kernel = (opType: string): WebGpuKernel => (inputs, outputs, ctx) => {
  const p = biasActivationPlan(opType, inputs, ctx);
  const n = product(p.out.dims);
  if (n === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  addHelpers(b, ['kiln_sigmoid', 'kiln_erfc']);
  const X = b.input('X', inputs[0]!, 0);
  const B = p.bias !== undefined ? b.input('BIAS', inputs[p.bias]!, p.bias) : undefined;
  const S = p.skip !== undefined ? b.input('SKIP', inputs[p.skip]!, p.skip) : undefined;
  const Y = b.output('Y', outputs[0]!);
  const total = b.uniform('n', 'u32', n);
  const C = b.uniform('channels', 'u32', p.channels);
  const alpha = b.uniform('alpha', 'f32', p.alpha);
  b.helper('biased', `fn biased(f: u32) -> f32 { return ${X.get('f')}${B ? ` + ${B.get(`f % ${C}`)}` : ''}; }`);
  const expr = {
    FastGelu: `${GELU_TANH('v')}`,
    BiasGelu: `${GELU_ERF('v')}`,
    QuickGelu: `v * kiln_sigmoid(${alpha} * v)`,
    BiasAdd: `v + ${S ? S.get('global_idx') : '0.0'}`,
    BiasSplitGelu: `biased(base) * ${GELU_ERF('g')}`,
  }[opType];
  const body = [
    `  if (global_idx >= ${total}) { return; }`,
    opType === 'BiasSplitGelu'
      ? `  let half = ${C} / 2u;\n  let base = (global_idx / half) * ${C} + global_idx % half;\n  let g = biased(base + half);`
      : '  let v = biased(global_idx);',
    `  ${Y.set('global_idx', expr!)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: n })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(BIAS_ACTIVATIONS.map((op) => [opKey('com.microsoft', op), kernel(op)]));
