import { MAX_ROW_PARTS, type WasmKernel, type WasmStep } from '../wasm/contract.ts';
import type { KernelContext, TensorMeta } from '../contract.ts';
import { bnshLayout } from '../attention/core.ts';
import { attend, attendDescriptor, bnshOut, Regions, scoresBytes, writeInts, type AttendSpec } from '../attention/wasm-attend.ts';
import { checkedOffset } from './write-op.ts';
import { inferKvCacheAttention, kvAttentionRows, type KvAttentionShape } from './attention-op.ts';

/**
 * float32 with a float32 offset, in the arena. Without a bias: the attention module's SIMD export
 * (kiln_attention_f32, split by rows over the thread pool) as a causal attention whose past length
 * is the offset, so query s reads keys 0 .. offset + s of the cache and no further. With a bias (an
 * attention_bias the rewrite carried over): the rows in TypeScript over views of the module's memory,
 * as the SIMD export has no bias input. The offset is read from memory and checked when the step
 * runs. A stacked cache [2, B, H, M, D] is one input: V is read at its second half. Other cases run
 * the js kernel.
 */
export const kvCacheAttention: WasmKernel = (inputs, _outputs, ctx) => {
  const [q, k] = inputs;
  if (q?.dtype !== 'float32' || inputs[3]?.dtype !== 'float32' || !k) return undefined;
  const { shape } = inferKvCacheAttention(inputs, ctx);
  const bias = inputs[4];
  return bias ? biasedRows(shape, bias, ctx) : simdAttention(shape, q, ctx);
};

function simdAttention(shape: KvAttentionShape, q: TensorMeta, ctx: KernelContext): WasmStep {
  const { slabs, queries, capacity, width, scale, stacked } = shape;
  const [B, N] = q.dims as [number, number];
  const half = slabs * capacity * width * 4;
  const spec: AttendSpec = {
    B, N, group: 1, S: queries, T: capacity, H: width, Hv: width, causal: true, scale, lens: true,
    q: bnshLayout(N, queries, width), k: bnshLayout(N, capacity, width), v: bnshLayout(N, capacity, width), out: bnshOut(queries, N, width),
  };
  const desc = attendDescriptor(spec);
  const scratch = new Regions();
  const lensAt = scratch.take(B * 4);
  const scoresAt = scratch.take(MAX_ROW_PARTS * scoresBytes(capacity));
  const lens = new Int32Array(B);
  return {
    reads: stacked ? [0, 1, 3] : [0, 1, 2, 3],
    scratchBytes: scratch.bytes,
    persistentBytes: [desc.byteLength],
    prepare(kw, at) {
      kw.fn('kiln_attention_f32'); // a missing export fails at session creation
      writeInts(kw, at.persistent[0]!, desc);
    },
    run(kw, at) {
      const offset = checkedOffset(new Float32Array(kw.memory.buffer, at.inputs[3]!, 1)[0]!, { slabs, capacity, count: queries, width }, ctx);
      writeInts(kw, at.scratch + lensAt, lens.fill(offset));
      attend(kw, at.inputs[0]!, at.inputs[1]!, stacked ? at.inputs[1]! + half : at.inputs[2]!, at.outputs[0]!, at.scratch + scoresAt, at.persistent[0]!, spec, { lens: at.scratch + lensAt });
    },
  };
}

function biasedRows(shape: KvAttentionShape, bias: TensorMeta, ctx: KernelContext): WasmStep {
  const { slabs, queries, capacity, width, stacked } = shape;
  const biasLength = bias.dims.reduce((a, b) => a * b, 1);
  return {
    reads: stacked ? [0, 1, 3, 4] : [0, 1, 2, 3, 4],
    scratchBytes: 0,
    persistentBytes: [],
    run(kw, at) {
      const buffer = kw.memory.buffer;
      const offset = checkedOffset(new Float32Array(buffer, at.inputs[3]!, 1)[0]!, { slabs, capacity, count: queries, width }, ctx);
      const rows = slabs * queries * width;
      const cache = slabs * capacity * width;
      const values = stacked ? at.inputs[1]! + cache * 4 : at.inputs[2]!;
      kvAttentionRows(new Float32Array(buffer, at.inputs[0]!, rows), new Float32Array(buffer, at.inputs[1]!, cache), new Float32Array(buffer, values, cache), new Float32Array(buffer, at.outputs[0]!, rows), shape, offset, new Float32Array(buffer, at.inputs[4]!, biasLength));
    },
  };
}
