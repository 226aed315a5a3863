import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { addHelpers } from '../elementwise-unary/unary-math.ts';
import { causalConvPlan } from './op.ts';

/**
 * Two programs, one invocation per value: the output (each loops over the K taps, reading the
 * carried state for the first K - 1 - t taps and the input after), and present_state (a copy of the
 * last K - 1 steps of the padded row). Neither builds the padded row. A program with nothing to
 * write (K = 1: an empty state) is left out, so no empty buffer is bound;
 * an empty input (L = 0) runs on the CPU.
 */
const causalConv: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = causalConvPlan(inputs, ctx);
  if (p.length === 0) return undefined; // nothing to convolve; an empty input buffer cannot be bound
  const S = p.kernel - 1;
  const programs: GpuProgram[] = [];
  const label = `CausalConvWithState:${ctx.node}`;
  // padded_at(row, pos): state slot pos while pos < S (zero without past_state), then the input
  const padded = (b: ShaderBuilder): { len: string; stateLen: string } => {
    const X = b.input('X', inputs[0]!, 0);
    const P = p.hasPast ? b.input('PAST', inputs[3]!, 3) : undefined;
    const [stateLen, len] = [b.uniform('state_len', 'u32', S), b.uniform('len', 'u32', p.length)];
    b.helper('padded_at', [
      'fn padded_at(row: u32, pos: u32) -> f32 {',
      `  if (pos < ${stateLen}) { return ${P ? P.get(`row * ${stateLen} + pos`) : '0.0'}; }`,
      `  return ${X.get(`row * ${len} + pos - ${stateLen}`)};`,
      '}',
    ].join('\n'));
    return { len, stateLen };
  };
  const total = product(p.out.dims);
  if (total > 0) {
    const b = new ShaderBuilder(ctx.caps);
    const { len } = padded(b);
    const W = b.input('W', inputs[1]!, 1);
    const Bi = p.hasBias ? b.input('BIAS', inputs[2]!, 2) : undefined;
    const Y = b.output('Y', outputs[0]!, 0);
    const [n, ch, k] = [b.uniform('n', 'u32', total), b.uniform('channels', 'u32', p.channels), b.uniform('taps', 'u32', p.kernel)];
    if (p.silu) addHelpers(b, ['kiln_sigmoid']);
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let row = global_idx / ${len};`,
      `  let t = global_idx % ${len};`,
      `  let c = row % ${ch};`,
      `  var acc = ${Bi ? Bi.get('c') : '0.0'};`,
      `  for (var j = 0u; j < ${k}; j++) { acc += ${W.get(`c * ${k} + j`)} * padded_at(row, t + j); }`,
      `  ${Y.set('global_idx', p.silu ? 'acc * kiln_sigmoid(acc)' : 'acc')}`,
    ].join('\n');
    programs.push(b.build({ label, body, totalInvocations: total }));
  }
  const stateTotal = product(p.present.dims);
  if (outputs.length > 1 && stateTotal > 0) {
    const b = new ShaderBuilder(ctx.caps);
    const { len, stateLen } = padded(b);
    const Y = b.output('PRESENT', outputs[1]!, 1);
    const n = b.uniform('n', 'u32', stateTotal);
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let row = global_idx / ${stateLen};`,
      `  ${Y.set('global_idx', `padded_at(row, ${len} + global_idx % ${stateLen})`)}`,
    ].join('\n');
    programs.push(b.build({ label: `${label}:present_state`, body, totalInvocations: stateTotal }));
  }
  return { kind: 'programs', programs };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'CausalConvWithState')]: causalConv };
