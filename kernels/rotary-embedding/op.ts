import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { elementReader } from '../common/element-reader.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * RotaryEmbedding: rotates the first `rotary_embedding_dim` values of every head by the angle of
 * the token's position (cos/sin caches hold one row per position, rotary_dim / 2 wide); the rest
 * of the head passes through. Pairs are (i, i + rotary_dim / 2), or (2i, 2i + 1) when interleaved.
 * Two signatures share the math:
 *   com.microsoft: input (B, S, hidden) or (B, N, S, H), position_ids (int64: one offset added to s,
 *                  or (B, S)), cos_cache, sin_cache (max_positions, rotary_dim / 2).
 *   ai.onnx 23:    X (B, N, S, H) or (B, S, hidden), cos_cache, sin_cache, position_ids? ((B, S);
 *                  without it the caches are (B, S, rotary_dim / 2)).
 */

export interface RotaryPlan {
  readonly out: TensorMeta;
  readonly batch: number;
  readonly seq: number;
  readonly heads: number;
  readonly headSize: number;
  readonly rotaryDim: number;
  readonly interleaved: boolean;
  /** flat strides of b, s and n in the input (h has stride 1) */
  readonly strideB: number;
  readonly strideS: number;
  readonly strideN: number;
  readonly cosSlot: number;
  readonly sinSlot: number;
  /** cache row of (b, s): ids[0] + s ('offset'), ids[b, s] ('ids'), or b * S + s ('direct') */
  readonly rowKind: 'offset' | 'ids' | 'direct';
  readonly positionSlot?: number;
  /** positions the caches hold, and the values per position (the row stride) */
  readonly cacheRows: number;
  readonly cacheWidth: number;
}

function requireCaches(inputs: readonly MaybeMeta[], cosSlot: number, ctx: KernelContext, ranks: readonly number[]): TensorMeta {
  const cos = requireInput(inputs, cosSlot, ctx);
  const sin = requireInput(inputs, cosSlot + 1, ctx);
  requireType(cos, FLOAT_TYPES, ctx, 'cos_cache');
  requireType(sin, FLOAT_TYPES, ctx, 'sin_cache');
  if (!ranks.includes(cos.dims.length)) fail('INVALID_GRAPH', `node '${ctx.node}': cos_cache must have rank ${ranks.join(' or ')}, got [${cos.dims.join(', ')}]`);
  if (cos.dims.length !== sin.dims.length || cos.dims.some((d, i) => d !== sin.dims[i])) fail('INVALID_GRAPH', `node '${ctx.node}': cos_cache [${cos.dims.join(', ')}] and sin_cache [${sin.dims.join(', ')}] must have the same shape`);
  return cos;
}

function layout(x: TensorMeta, heads: number, headSize: number, bnsh: boolean): Pick<RotaryPlan, 'batch' | 'seq' | 'strideB' | 'strideS' | 'strideN'> {
  const batch = x.dims[0]!;
  const seq = bnsh ? x.dims[2]! : x.dims[1]!;
  return bnsh
    ? { batch, seq, strideB: heads * seq * headSize, strideN: seq * headSize, strideS: headSize }
    : { batch, seq, strideB: seq * heads * headSize, strideS: heads * headSize, strideN: headSize };
}

function checkRotaryDim(rotaryDim: number, headSize: number, cacheWidth: number, ctx: KernelContext, orHalfHead = false): void {
  if (rotaryDim <= 0 || rotaryDim % 2 !== 0 || rotaryDim > headSize) fail('INVALID_GRAPH', `node '${ctx.node}': rotary_embedding_dim ${rotaryDim} must be even, positive and at most the head size ${headSize}`);
  if (cacheWidth !== rotaryDim / 2 && !(orHalfHead && cacheWidth === headSize / 2)) fail('INVALID_GRAPH', `node '${ctx.node}': cos_cache width ${cacheWidth} must be rotary_embedding_dim / 2 = ${rotaryDim / 2}${orHalfHead ? ` or head_size / 2 = ${headSize / 2}` : ''}`);
}

export function contribRotaryPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): RotaryPlan {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  if (x.dims.length !== 3 && x.dims.length !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': input must be 3-D (B, S, hidden) or 4-D (B, N, S, H), got [${x.dims.join(', ')}]`);
  const pos = requireInput(inputs, 1, ctx);
  requireType(pos, ['int64', 'int32'], ctx, 'position_ids');
  const cos = requireCaches(inputs, 2, ctx, [2]);
  const attrDim = ctx.attrs.int('rotary_embedding_dim', 0);
  let numHeads = ctx.attrs.int('num_heads', 0);
  if (attrDim > 0 && numHeads <= 0) fail('INVALID_GRAPH', `node '${ctx.node}': num_heads must be provided if rotary_embedding_dim is specified`);
  const bnsh = x.dims.length === 4;
  const hidden = bnsh ? x.dims[1]! * x.dims[3]! : x.dims[2]!;
  // as onnxruntime derives them: the head size from the cache unless rotary_embedding_dim is set
  const headSize = attrDim === 0 ? cos.dims[1]! * 2 : hidden / numHeads;
  if (numHeads <= 0) numHeads = hidden / headSize;
  if (!Number.isInteger(numHeads) || !Number.isInteger(headSize) || numHeads * headSize !== hidden || (bnsh && (x.dims[1] !== numHeads || x.dims[3] !== headSize))) {
    fail('INVALID_GRAPH', `node '${ctx.node}': input [${x.dims.join(', ')}] does not split into ${numHeads} heads of ${headSize}`);
  }
  const rotaryDim = attrDim > 0 ? attrDim : headSize;
  checkRotaryDim(rotaryDim, headSize, cos.dims[1]!, ctx, true);
  const l = layout(x, numHeads, headSize, bnsh);
  const single = product(pos.dims) === 1 && pos.dims.length <= 1;
  if (!single && (pos.dims.length !== 2 || pos.dims[0] !== l.batch || pos.dims[1] !== l.seq)) fail('INVALID_GRAPH', `node '${ctx.node}': position_ids must be one value or (${l.batch}, ${l.seq}), got [${pos.dims.join(', ')}]`);
  return {
    out: { dtype: x.dtype, dims: x.dims },
    ...l,
    heads: numHeads,
    headSize,
    rotaryDim,
    interleaved: ctx.attrs.int('interleaved', 0) === 1,
    cosSlot: 2,
    sinSlot: 3,
    rowKind: single ? 'offset' : 'ids',
    positionSlot: 1,
    // onnxruntime steps through the caches rotary_dim / 2 values per position, whatever their width
    cacheRows: Math.floor(product(cos.dims) / (rotaryDim / 2)),
    cacheWidth: rotaryDim / 2,
  };
}

export function onnxRotaryPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): RotaryPlan {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  if (x.dims.length !== 3 && x.dims.length !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': X must be 4-D (B, N, S, H) or 3-D (B, S, hidden), got [${x.dims.join(', ')}]`);
  const pos = inputs[3];
  const cos = requireCaches(inputs, 1, ctx, pos ? [2] : [3]);
  const bnsh = x.dims.length === 4;
  let heads = ctx.attrs.int('num_heads', 0);
  if (!bnsh && heads <= 0) fail('INVALID_GRAPH', `node '${ctx.node}': num_heads is required for a 3-D input`);
  if (bnsh) heads = x.dims[1]!;
  const hidden = bnsh ? x.dims[1]! * x.dims[3]! : x.dims[2]!;
  const headSize = hidden / heads;
  if (!Number.isInteger(headSize)) fail('INVALID_GRAPH', `node '${ctx.node}': hidden size ${hidden} does not split into ${heads} heads`);
  const rotaryDim = ctx.attrs.int('rotary_embedding_dim', 0) || headSize;
  checkRotaryDim(rotaryDim, headSize, cos.dims[cos.dims.length - 1]!, ctx);
  const l = layout(x, heads, headSize, bnsh);
  if (pos) {
    requireType(pos, ['int64'], ctx, 'position_ids');
    if (pos.dims.length !== 2 || pos.dims[0] !== l.batch || pos.dims[1] !== l.seq) fail('INVALID_GRAPH', `node '${ctx.node}': position_ids must be (${l.batch}, ${l.seq}), got [${pos.dims.join(', ')}]`);
  } else if (cos.dims[0] !== l.batch || cos.dims[1] !== l.seq) {
    fail('INVALID_GRAPH', `node '${ctx.node}': without position_ids cos_cache must be (${l.batch}, ${l.seq}, ${rotaryDim / 2}), got [${cos.dims.join(', ')}]`);
  }
  return {
    out: { dtype: x.dtype, dims: x.dims },
    ...l,
    heads,
    headSize,
    rotaryDim,
    interleaved: ctx.attrs.int('interleaved', 0) === 1,
    cosSlot: 1,
    sinSlot: 2,
    rowKind: pos ? 'ids' : 'direct',
    ...(pos ? { positionSlot: 3 } : {}),
    cacheRows: pos ? cos.dims[0]! : l.batch * l.seq,
    cacheWidth: cos.dims[cos.dims.length - 1]!,
  };
}

function rotaryReference(planOf: (inputs: readonly MaybeMeta[], ctx: KernelContext) => RotaryPlan): OpDefinition['reference'] {
  return (inputs, ctx) => {
    const p = planOf(inputs.map((t) => t && metaOf(t)), ctx);
    const x = toNumbers(inputs[0]!);
    // the caches hold every position (thousands of rows): read only the rows the tokens use
    const cos = elementReader(inputs[p.cosSlot]!);
    const sin = elementReader(inputs[p.sinSlot]!);
    const pos = p.positionSlot !== undefined ? toNumbers(inputs[p.positionSlot]!) : undefined;
    const y = Float64Array.from(x); // the values past rotary_dim pass through
    const half = p.rotaryDim / 2;
    for (let b = 0; b < p.batch; b++) {
      for (let s = 0; s < p.seq; s++) {
        const row = p.rowKind === 'offset' ? pos![0]! + s : p.rowKind === 'ids' ? pos![b * p.seq + s]! : b * p.seq + s;
        if (!(row >= 0 && row < p.cacheRows)) fail('INVALID_ARGUMENT', `node '${ctx.node}': position ${row} is outside the cos/sin caches (${p.cacheRows} rows)`);
        for (let n = 0; n < p.heads; n++) {
          const base = b * p.strideB + s * p.strideS + n * p.strideN;
          for (let i = 0; i < half; i++) {
            const c = cos(row * p.cacheWidth + i);
            const sn = sin(row * p.cacheWidth + i);
            const [i1, i2] = p.interleaved ? [2 * i, 2 * i + 1] : [i, i + half];
            const x1 = x[base + i1]!;
            const x2 = x[base + i2]!;
            y[base + i1] = x1 * c - x2 * sn;
            y[base + i2] = x2 * c + x1 * sn;
          }
        }
      }
    }
    return [fromNumbers(p.out.dtype, p.out.dims, y)];
  };
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'RotaryEmbedding', domain: 'com.microsoft', inferOutputs: (inputs, ctx) => [contribRotaryPlan(inputs, ctx).out], reference: rotaryReference(contribRotaryPlan) },
  { opType: 'RotaryEmbedding', inferOutputs: (inputs, ctx) => [onnxRotaryPlan(inputs, ctx).out], reference: rotaryReference(onnxRotaryPlan) },
];
