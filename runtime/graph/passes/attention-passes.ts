// The attention recognizers, a chunk of their own (loaded by loadGraphPassesFor for graphs with a
// Softmax): decomposed self-attention becomes MultiHeadAttention on WebGPU (one flash dispatch) and
// the fused Attention on wasm (one SIMD kernel).
import { registerAttentionPasses, type AttentionPasses } from './optimize.ts';
import { recognizeAttention } from './recognize-attention.ts';
import { recognizeMatMulAttention } from './recognize-matmul-attention.ts';

/** Exported as well as registered: the script tag's loader takes a part's exports as proof it ran. */
export const attentionPasses: AttentionPasses = { webgpu: recognizeAttention, wasm: recognizeMatMulAttention };
registerAttentionPasses(attentionPasses);
