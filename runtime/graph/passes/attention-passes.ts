// The attention recognizers, a chunk of their own (loaded by loadGraphPassesFor for graphs with a
// Softmax): decomposed self-attention becomes MultiHeadAttention on WebGPU (one flash dispatch) and
// the fused Attention on wasm (one SIMD kernel).
import { registerAttentionPasses } from './optimize.ts';
import { recognizeAttention } from './recognize-attention.ts';
import { recognizeMatMulAttention } from './recognize-matmul-attention.ts';

registerAttentionPasses({ webgpu: recognizeAttention, wasm: recognizeMatMulAttention });
