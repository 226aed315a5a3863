import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
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
  let f: WasmExport | undefined;
  return {
    reads: hasBias ? [0, 1, 2] : [0, 1],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn('kiln_layernorm_f32');
    },
    run(k, at) {
      f ??= k.fn('kiln_layernorm_f32');
      f(at.inputs[0]!, at.inputs[1]!, hasBias ? at.inputs[2]! : 0, at.outputs[0]!, plan.rows, plan.len, plan.epsilon);
    },
  };
};

const instanceNorm: WasmKernel = (inputs, _outputs, ctx) => {
  if (inputs.some((m) => m && m.dtype !== 'float32')) return undefined;
  const plan = instanceNormPlan(inputs, ctx);
  const channels = inputs[0]!.dims[1]!;
  let f: WasmExport | undefined;
  return {
    reads: [0, 1, 2],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn('kiln_instancenorm_f32');
    },
    run(k, at) {
      f ??= k.fn('kiln_instancenorm_f32');
      f(at.inputs[0]!, at.inputs[1]!, at.inputs[2]!, at.outputs[0]!, plan.rows, plan.len, channels, plan.epsilon);
    },
  };
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
  const a = new Float32Array(s.mod);
  const b = new Float32Array(s.mod);
  for (let k = 0; k < s.mod; k++) {
    const inv = 1 / Math.sqrt(variance[k]! + eps);
    a[k] = scale[k]! * inv;
    b[k] = bias[k]! - mean[k]! * scale[k]! * inv;
  }
  const total = s.x.dims.reduce((p, d) => p * d, 1);
  const outer = s.mod * s.inner === 0 ? 0 : total / (s.mod * s.inner);
  let f: WasmExport | undefined;
  return {
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [a.byteLength * 2],
    prepare(k, at) {
      f = k.fn('kiln_channel_affine_f32');
      const region = new Float32Array(k.memory.buffer, at.persistent[0]!, 2 * s.mod);
      region.set(a);
      region.set(b, s.mod);
    },
    run(k, at) {
      f ??= k.fn('kiln_channel_affine_f32');
      f(at.inputs[0]!, at.persistent[0]!, at.persistent[0]! + a.byteLength, at.outputs[0]!, outer, s.mod, s.inner);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'LayerNormalization')]: layerNorm,
  [opKey('', 'InstanceNormalization')]: instanceNorm,
  [opKey('', 'BatchNormalization')]: batchNorm,
};
