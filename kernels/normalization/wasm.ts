import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { batchNormSetup, instanceNormPlan, layerNormSetup } from './op.ts';

/**
 * LayerNormalization over its trailing axes with a full-size Scale (and B); the Mean/InvStdDev
 * outputs and broadcast (smaller) parameters decline to the js kernel.
 */
const layerNorm: WasmKernel = (inputs, outputs, ctx) => {
  if (outputs.length !== 1 || inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const { plan } = layerNormSetup(inputs, ctx);
  const full = (slot: number): boolean => inputs[slot]!.dims.reduce((a, d) => a * d, 1) === plan.len;
  const hasBias = inputs[2] !== undefined;
  if (!full(1) || (hasBias && !full(2))) return undefined;
  return singleExportStep('kiln_layernorm_f32', (at) => [at.inputs[0]!, at.inputs[1]!, hasBias ? at.inputs[2]! : 0, at.outputs[0]!, plan.rows, plan.len, plan.epsilon], {
    reads: hasBias ? [0, 1, 2] : [0, 1],
  });
};

const instanceNorm: WasmKernel = (inputs, _outputs, ctx) => {
  if (inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const plan = instanceNormPlan(inputs, ctx);
  const channels = inputs[0]!.dims[1]!;
  return singleExportStep('kiln_instancenorm_f32', (at) => [at.inputs[0]!, at.inputs[1]!, at.inputs[2]!, at.outputs[0]!, plan.rows, plan.len, channels, plan.epsilon], {
    reads: [0, 1, 2],
  });
};

/**
 * BatchNormalization in inference mode with constant statistics (the usual case: exported models
 * keep them as initializers): folded in float64 at session start into a per-channel a, b so a run
 * is one multiply-add per element. Training mode and statistics computed at run time decline.
 */
const batchNorm: WasmKernel = (inputs, outputs, ctx) => {
  if (outputs.length !== 1 || inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const s = batchNormSetup(inputs, ctx);
  const params = [1, 2, 3, 4].map((slot) => ctx.constants[slot]);
  if (s.training || params.some((p) => p?.type !== 'float32')) return undefined;
  const [scale, bias, mean, variance] = params.map((p) => p!.data as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = ctx.attrs.float('epsilon', 1e-5);
  // a per channel, then b: one persistent region
  const ab = new Float32Array(2 * s.mod);
  const [a, b] = [ab.subarray(0, s.mod), ab.subarray(s.mod)];
  for (let k = 0; k < s.mod; k++) {
    const inv = 1 / Math.sqrt(variance[k]! + eps);
    a[k] = scale[k]! * inv;
    b[k] = bias[k]! - mean[k]! * scale[k]! * inv;
  }
  const total = s.x.dims.reduce((p, d) => p * d, 1);
  const outer = s.mod * s.inner === 0 ? 0 : total / (s.mod * s.inner);
  return singleExportStep('kiln_channel_affine_f32', (at) => [at.inputs[0]!, at.persistent[0]!, at.persistent[0]! + a.byteLength, at.outputs[0]!, outer, s.mod, s.inner], {
    persistent: ab,
  });
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'LayerNormalization')]: layerNorm,
  [opKey('', 'InstanceNormalization')]: instanceNorm,
  [opKey('', 'BatchNormalization')]: batchNorm,
};
