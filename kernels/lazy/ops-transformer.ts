// Lazy op group 'transformer': onnxruntime's fused transformer ops (com.microsoft norms, activations, embeddings), attention, and the linear-attention / state-space ops (CausalConvWithState, LinearAttention). Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as fusedNorm } from '../fused-norm/op.ts';
import { js as fusedNormJs } from '../fused-norm/js.ts';
import { webgpu as fusedNormWebGpu } from '../fused-norm/webgpu.ts';
import { definitions as biasActivation } from '../bias-activation/op.ts';
import { js as biasActivationJs } from '../bias-activation/js.ts';
import { webgpu as biasActivationWebGpu } from '../bias-activation/webgpu.ts';
import { definitions as embedLayerNorm } from '../embed-layer-norm/op.ts';
import { js as embedLayerNormJs } from '../embed-layer-norm/js.ts';
import { webgpu as embedLayerNormWebGpu } from '../embed-layer-norm/webgpu.ts';
import { definitions as rotaryEmbedding } from '../rotary-embedding/op.ts';
import { js as rotaryEmbeddingJs } from '../rotary-embedding/js.ts';
import { webgpu as rotaryEmbeddingWebGpu } from '../rotary-embedding/webgpu.ts';
import { definitions as attention } from '../attention/op.ts';
import { js as attentionJs } from '../attention/js.ts';
import { webgpu as attentionWebGpu } from '../attention/webgpu.ts';
import { definitions as kvCache } from '../kv-cache-write/op.ts';
import { webgpu as kvCacheWebGpu } from '../kv-cache-write/webgpu.ts';
import { definitions as swiglu } from '../swiglu/op.ts';
import { definitions as causalConv } from '../causal-conv-with-state/op.ts';
import { js as causalConvJs } from '../causal-conv-with-state/js.ts';
import { webgpu as causalConvWebGpu } from '../causal-conv-with-state/webgpu.ts';
import { definitions as linearAttention } from '../linear-attention/op.ts';
import { js as linearAttentionJs } from '../linear-attention/js.ts';
import { webgpu as linearAttentionWebGpu } from '../linear-attention/webgpu.ts';

export const group: LazyOpGroup = {
  definitions: [...fusedNorm, ...biasActivation, ...embedLayerNorm, ...rotaryEmbedding, ...attention, ...kvCache,
    ...swiglu, ...causalConv, ...linearAttention,
  ],
  js: [fusedNormJs, biasActivationJs, embedLayerNormJs, rotaryEmbeddingJs, attentionJs, causalConvJs, linearAttentionJs],
  webgpu: [fusedNormWebGpu, biasActivationWebGpu, embedLayerNormWebGpu, rotaryEmbeddingWebGpu, attentionWebGpu, kvCacheWebGpu, causalConvWebGpu, linearAttentionWebGpu],
};
