import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import { elementReader } from '../common/element-reader.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * com.microsoft EmbedLayerNormalization (BERT's embedding block, as onnxruntime's transformer
 * optimizer fuses it): for each token (b, s)
 *   sum = word[input_ids] + position[position_ids or s] (+ segment[segment_ids])
 *   output = LayerNorm(sum) * gamma + beta
 * and mask_index[b] = how many mask values of batch b are 1 (0s when there is no mask).
 * Inputs: input_ids, segment_ids?, word_embedding, position_embedding, segment_embedding?, gamma,
 * beta?, mask?, position_ids?. Outputs: output, mask_index (int32 [B]), embedding_sum?.
 */

export const DEFAULT_EMBED_EPSILON = 1e-12; // onnxruntime's kDefaultEmbedLayerNormEpsilon
const ID_TYPES = ['int32', 'int64'] as const;

export interface EmbedPlan {
  readonly batch: number;
  readonly seq: number;
  readonly hidden: number;
  readonly epsilon: number;
  readonly rows: { readonly word: number; readonly position: number; readonly segment: number };
  /** position_ids: absent, (1, S) shared by every batch, or (B, S) */
  readonly positionIds: 'none' | 'shared' | 'per-batch';
  readonly outs: TensorMeta[];
}

export function embedPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): EmbedPlan {
  if ((ctx.outputCount ?? 1) > 3) fail('INVALID_GRAPH', `node '${ctx.node}': EmbedLayerNormalization has at most 3 outputs, the node declares ${ctx.outputCount}`);
  const ids = requireInput(inputs, 0, ctx);
  requireType(ids, ID_TYPES, ctx, 'input_ids');
  if (ids.dims.length !== 2) fail('INVALID_GRAPH', `node '${ctx.node}': input_ids must be 2-D (batch, sequence), got [${ids.dims.join(', ')}]`);
  const [batch, seq] = ids.dims as [number, number];
  const sameAsIds = (slot: number, what: string): void => {
    const m = inputs[slot];
    if (!m) return;
    requireType(m, ID_TYPES, ctx, what);
    if (m.dims.length !== 2 || m.dims[0] !== batch || m.dims[1] !== seq) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must have the shape of input_ids [${batch}, ${seq}], got [${m.dims.join(', ')}]`);
  };
  sameAsIds(1, 'segment_ids');
  sameAsIds(7, 'mask');
  const table = (slot: number, what: string): TensorMeta => {
    const m = requireInput(inputs, slot, ctx);
    requireType(m, FLOAT_TYPES, ctx, what);
    if (m.dims.length !== 2) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must be 2-D (rows, hidden), got [${m.dims.join(', ')}]`);
    return m;
  };
  const word = table(2, 'word_embedding');
  const hidden = word.dims[1]!;
  const position = table(3, 'position_embedding');
  const segment = inputs[4] ? table(4, 'segment_embedding') : undefined;
  if (!!segment !== !!inputs[1]) fail('INVALID_GRAPH', `node '${ctx.node}': segment_ids and segment_embedding must be given together`);
  for (const [m, what] of [[position, 'position_embedding'], [segment, 'segment_embedding']] as const) {
    if (m && m.dims[1] !== hidden) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} hidden size ${m.dims[1]} differs from word_embedding's ${hidden}`);
  }
  for (const [slot, what, optional] of [[5, 'gamma', false], [6, 'beta', true]] as const) {
    const m = inputs[slot];
    if (!m && optional) continue;
    const v = requireInput(inputs, slot, ctx);
    requireType(v, FLOAT_TYPES, ctx, what);
    if (v.dims.length !== 1 || v.dims[0] !== hidden) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must have shape [${hidden}], got [${v.dims.join(', ')}]`);
  }
  let positionIds: EmbedPlan['positionIds'] = 'none';
  const pos = inputs[8];
  if (pos) {
    requireType(pos, ID_TYPES, ctx, 'position_ids');
    const ok = pos.dims.length === 2 && (pos.dims[0] === batch || pos.dims[0] === 1) && pos.dims[1] === seq;
    if (!ok) fail('INVALID_GRAPH', `node '${ctx.node}': position_ids must be (${batch}, ${seq}) or (1, ${seq}), got [${pos.dims.join(', ')}]`);
    positionIds = pos.dims[0] === batch && batch !== 1 ? 'per-batch' : 'shared';
  } else if (position.dims[0]! < seq) {
    fail('INVALID_GRAPH', `node '${ctx.node}': position_embedding has ${position.dims[0]} rows, fewer than the sequence length ${seq}`);
  }
  const maskIndexType = ctx.attrs.int('mask_index_type', 1);
  if (maskIndexType !== 0 && maskIndexType !== 1) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': mask_index_type ${maskIndexType} is not supported (0 or 1)`);
  const epsilon = ctx.attrs.float('epsilon', DEFAULT_EMBED_EPSILON);
  if (!(epsilon >= 0)) fail('INVALID_GRAPH', `node '${ctx.node}': epsilon must be >= 0, got ${epsilon}`);
  return {
    batch,
    seq,
    hidden,
    epsilon,
    rows: { word: word.dims[0]!, position: position.dims[0]!, segment: segment?.dims[0] ?? 0 },
    positionIds,
    outs: [
      { dtype: word.dtype, dims: [batch, seq, hidden] },
      { dtype: 'int32', dims: [batch] },
      { dtype: word.dtype, dims: [batch, seq, hidden] },
    ],
  };
}

const reference: OpDefinition['reference'] = (inputs, ctx) => {
  const p = embedPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch, seq, hidden: H } = p;
  // element readers: only the gathered rows of the (large) tables are read
  const read = (slot: number): ((i: number) => number) | undefined => (inputs[slot] ? elementReader(inputs[slot]) : undefined);
  const [ids, segIds, word, position, segment, gamma, beta, mask, posIds] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(read);
  const row = (v: number, rows: number, what: string): number => {
    if (!(v >= 0 && v < rows)) fail('INVALID_ARGUMENT', `node '${ctx.node}': ${what} ${v} is out of range [0, ${rows})`);
    return v;
  };
  const sum = new Float64Array(batch * seq * H);
  const y = new Float64Array(sum.length);
  for (let t = 0; t < batch * seq; t++) {
    const s = t % seq;
    const w = row(ids!(t), p.rows.word, 'input_ids value');
    const pos = row(posIds ? posIds(p.positionIds === 'per-batch' ? t : s) : s, p.rows.position, 'position');
    const g = segIds ? row(segIds(t), p.rows.segment, 'segment_ids value') : 0;
    const base = t * H;
    let total = 0;
    for (let j = 0; j < H; j++) {
      const v = word!(w * H + j) + position!(pos * H + j) + (segment ? segment(g * H + j) : 0);
      sum[base + j] = v;
      total += v;
    }
    const mean = total / H;
    let q = 0;
    for (let j = 0; j < H; j++) q += (sum[base + j]! - mean) ** 2;
    const inv = 1 / Math.sqrt(q / H + p.epsilon);
    for (let j = 0; j < H; j++) y[base + j] = (sum[base + j]! - mean) * inv * gamma!(j) + (beta ? beta(j) : 0);
  }
  const maskIndex = Array.from({ length: batch }, (_, b) => {
    let n = 0;
    if (mask) for (let s = 0; s < seq; s++) if (mask(b * seq + s) === 1) n++;
    return n;
  });
  return [fromNumbers(p.outs[0]!.dtype, p.outs[0]!.dims, y), fromNumbers('int32', [batch], maskIndex), fromNumbers(p.outs[2]!.dtype, p.outs[2]!.dims, sum)];
};

export const definitions: readonly OpDefinition[] = [
  { opType: 'EmbedLayerNormalization', domain: 'com.microsoft', inferOutputs: (inputs, ctx) => embedPlan(inputs, ctx).outs, reference },
];
