import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { instanceNormPlan, layerNormSetup } from './op.ts';

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

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'LayerNormalization')]: layerNorm, [opKey('', 'InstanceNormalization')]: instanceNorm };
