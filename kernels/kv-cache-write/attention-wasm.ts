import type { WasmKernel } from '../wasm/contract.ts';
import { checkedOffset } from './write-op.ts';
import { inferKvCacheAttention, kvAttentionRows } from './attention-op.ts';

/**
 * float32 with a float32 offset, in the arena: the rows computed in TypeScript over views of the
 * module's memory (no SIMD export for it yet: kernels/wasm/src/attention.c is being reworked by its
 * own branch), reading only keys 0 .. offset + s. Other cases run the js kernel.
 */
export const kvCacheAttention: WasmKernel = (inputs, _outputs, ctx) => {
  if (inputs[0]?.dtype !== 'float32' || inputs[3]?.dtype !== 'float32') return undefined;
  const { shape } = inferKvCacheAttention(inputs, ctx);
  const { slabs, queries, capacity, width } = shape;
  const bias = inputs[4];
  const biasLength = bias ? bias.dims.reduce((a, b) => a * b, 1) : 0;
  return {
    reads: bias ? [0, 1, 2, 3, 4] : [0, 1, 2, 3],
    scratchBytes: 0,
    persistentBytes: [],
    run(k, at) {
      const buffer = k.memory.buffer;
      const offset = checkedOffset(new Float32Array(buffer, at.inputs[3]!, 1)[0]!, { slabs, capacity, count: queries, width }, ctx);
      const rows = slabs * queries * width;
      const cache = slabs * capacity * width;
      kvAttentionRows(new Float32Array(buffer, at.inputs[0]!, rows), new Float32Array(buffer, at.inputs[1]!, cache), new Float32Array(buffer, at.inputs[2]!, cache), new Float32Array(buffer, at.outputs[0]!, rows), shape, offset, bias ? new Float32Array(buffer, at.inputs[4]!, biasLength) : undefined);
    },
  };
};
