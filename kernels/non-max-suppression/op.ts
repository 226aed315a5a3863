import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition } from '../contract.ts';

/**
 * NonMaxSuppression: per batch and class, boxes by descending score (ties: lower index first),
 * greedily kept unless their IoU with a kept box exceeds iou_threshold; boxes scoring at or below
 * score_threshold never enter. Output [selected, 3] of (batch, class, box), as onnxruntime
 * computes it. The output length depends on every value, so all inputs are host inputs: the node
 * runs at plan time (per fed value) on the CPU.
 */

interface Boxes {
  readonly batches: number;
  readonly spatial: number;
  readonly classes: number;
}

function shapes(inputs: readonly MaybeMeta[], ctx: KernelContext): Boxes {
  const boxes = requireInput(inputs, 0, ctx);
  const scores = requireInput(inputs, 1, ctx);
  requireType(boxes, FLOAT_TYPES, ctx, 'boxes');
  requireType(scores, FLOAT_TYPES, ctx, 'scores');
  const [b, s, four] = boxes.dims;
  if (boxes.dims.length !== 3 || four !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': NonMaxSuppression boxes must be [batches, boxes, 4], got dims [${boxes.dims.join(', ')}]`);
  if (scores.dims.length !== 3 || scores.dims[0] !== b || scores.dims[2] !== s) fail('INVALID_GRAPH', `node '${ctx.node}': NonMaxSuppression scores must be [${b}, classes, ${s}], got dims [${scores.dims.join(', ')}]`);
  const cpb = ctx.attrs.int('center_point_box', 0);
  if (cpb !== 0 && cpb !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': center_point_box ${cpb} must be 0 or 1`);
  return { batches: b!, spatial: s!, classes: scores.dims[1]! };
}

function scalarOf(t: AnyTensor | undefined, fallback: number): number {
  return t && t.size > 0 ? toNumbers(t)[0]! : fallback;
}

function nms(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor {
  const S = shapes(inputs.map((t) => t && metaOf(t)), ctx);
  const boxes = toNumbers(inputs[0]!);
  const scores = toNumbers(inputs[1]!);
  const maxOut = Math.max(0, scalarOf(inputs[2], 0));
  const iouThreshold = scalarOf(inputs[3], 0);
  const scoreThreshold = inputs[4] && inputs[4].size > 0 ? toNumbers(inputs[4])[0]! : -Infinity;
  const center = ctx.attrs.int('center_point_box', 0) === 1;
  // corners [ymin, xmin, ymax, xmax] of box i in batch b
  const corners = (b: number, i: number): [number, number, number, number] => {
    const o = (b * S.spatial + i) * 4;
    const [p, q, r, s] = [boxes[o]!, boxes[o + 1]!, boxes[o + 2]!, boxes[o + 3]!];
    if (center) return [q - s / 2, p - r / 2, q + s / 2, p + r / 2];
    return [Math.min(p, r), Math.min(q, s), Math.max(p, r), Math.max(q, s)];
  };
  const suppresses = (a: [number, number, number, number], c: [number, number, number, number]): boolean => {
    const ih = Math.min(a[2], c[2]) - Math.max(a[0], c[0]);
    const iw = Math.min(a[3], c[3]) - Math.max(a[1], c[1]);
    if (ih <= 0 || iw <= 0) return false;
    const inter = ih * iw;
    const areaA = (a[2] - a[0]) * (a[3] - a[1]);
    const areaC = (c[2] - c[0]) * (c[3] - c[1]);
    const union = areaA + areaC - inter;
    if (areaA <= 0 || areaC <= 0 || union <= 0) return false;
    return inter / union > iouThreshold;
  };
  const selected: number[] = [];
  for (let b = 0; b < S.batches; b++) {
    for (let c = 0; c < S.classes; c++) {
      const score = (i: number): number => scores[(b * S.classes + c) * S.spatial + i]!;
      const order = Array.from({ length: S.spatial }, (_, i) => i)
        .filter((i) => score(i) > scoreThreshold)
        .sort((i, j) => score(j) - score(i) || i - j);
      const kept: number[] = [];
      for (const i of order) {
        if (kept.length >= maxOut) break;
        const box = corners(b, i);
        if (kept.every((k) => !suppresses(corners(b, k), box))) kept.push(i);
      }
      for (const i of kept) selected.push(b, c, i);
    }
  }
  return fromNumbers('int64', [selected.length / 3, 3], selected);
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'NonMaxSuppression',
    hostInputs: [0, 1, 2, 3, 4],
    inferOutputs(inputs, ctx) {
      shapes(inputs, ctx);
      return [metaOf(nms(ctx.host, ctx))];
    },
    reference: (inputs, ctx) => [nms(inputs, ctx)],
  },
];
