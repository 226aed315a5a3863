import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const f16 = (dims: number[]): InputSpec => ({ dtype: 'float16', dims });
const ids = (dims: number[], rows: number, dtype: 'int32' | 'int64' = 'int32'): InputSpec => ({ dtype, dims, range: [0, rows] });
const omit: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const MS = 'com.microsoft';

// inputs: input_ids, segment_ids, word, position, segment, gamma, beta, mask, position_ids
const cases: OpCase[] = [
  { name: 'BERT embeddings with segment and mask, all outputs', op: 'EmbedLayerNormalization', domain: MS, outputs: 3, attrs: { epsilon: 1e-5 }, inputs: [ids([2, 5], 30), ids([2, 5], 2), f32([30, 16]), f32([8, 16]), f32([2, 16]), f32([16]), f32([16]), ids([2, 5], 2)] },
  { name: 'DistilBERT: no segment, no mask (mask_index 0s)', op: 'EmbedLayerNormalization', domain: MS, outputs: 2, inputs: [ids([3, 4], 20), omit, f32([20, 12]), f32([4, 12]), omit, f32([12]), f32([12])] },
  { name: 'position_ids (B, S)', op: 'EmbedLayerNormalization', domain: MS, outputs: 3, inputs: [ids([2, 3], 10), ids([2, 3], 3), f32([10, 9]), f32([16, 9]), f32([3, 9]), f32([9]), f32([9]), ids([2, 3], 2), ids([2, 3], 16, 'int64')] },
  { name: 'position_ids (1, S) shared by the batch', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([3, 4], 10), omit, f32([10, 8]), f32([12, 8]), omit, f32([8]), f32([8]), omit, ids([1, 4], 12)] },
  { name: 'int64 ids, no beta, hidden 64', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([1, 7], 50, 'int64'), ids([1, 7], 2, 'int64'), f32([50, 64]), f32([7, 64]), f32([2, 64]), f32([64])] },
  { name: 'float16 tables', op: 'EmbedLayerNormalization', domain: MS, outputs: 3, inputs: [ids([2, 3], 10), ids([2, 3], 2), f16([10, 16]), f16([3, 16]), f16([2, 16]), f16([16]), f16([16]), ids([2, 3], 2)], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: 'hidden 96 with mask, all outputs', op: 'EmbedLayerNormalization', domain: MS, outputs: 3, inputs: [ids([2, 4], 40), ids([2, 4], 2), f32([40, 96]), f32([4, 96]), f32([2, 96]), f32([96]), f32([96]), ids([2, 4], 2)] },
];

runOpCases('embed-layer-norm', cases);
// hidden >= 64: a workgroup per token on hardware GPUs

runBadInputCases('embed-layer-norm', [
  { name: 'hidden sizes differ', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([1, 2], 4), omit, f32([4, 8]), f32([2, 6]), omit, f32([8])], error: /position_embedding hidden size 6 differs from word_embedding's 8/ },
  { name: 'segment ids without a segment table', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([1, 2], 4), ids([1, 2], 2), f32([4, 8]), f32([2, 8]), omit, f32([8])], error: /segment_ids and segment_embedding must be given together/ },
  { name: 'fewer position rows than tokens', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([1, 5], 4), omit, f32([4, 8]), f32([3, 8]), omit, f32([8])], error: /position_embedding has 3 rows, fewer than the sequence length 5/ },
  { name: 'mask shape', op: 'EmbedLayerNormalization', domain: MS, inputs: [ids([1, 2], 4), omit, f32([4, 8]), f32([2, 8]), omit, f32([8]), f32([8]), ids([1, 3], 2)], error: /mask must have the shape of input_ids/ },
]);
