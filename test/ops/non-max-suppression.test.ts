import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Random boxes overlap often in [0, 1)^2; scores in [0, 1). All inputs decide the output length,
// so the node runs at plan time on the CPU in every session (gpu: false).
const boxes = (b: number, n: number): InputSpec => ({ dtype: 'float32', dims: [b, n, 4], range: [0, 1] });
const scores = (b: number, c: number, n: number): InputSpec => ({ dtype: 'float32', dims: [b, c, n], range: [0, 1] });
const maxOut = (v: number): InputSpec => ({ dtype: 'int64', dims: [1], values: [v] });
const thr = (v: number): InputSpec => ({ dtype: 'float32', dims: [1], values: [v] });

const cases: OpCase[] = [
  { name: 'corners, iou 0.3, score 0.2', op: 'NonMaxSuppression', gpu: false, inputs: [boxes(2, 12), scores(2, 3, 12), maxOut(4), thr(0.3), thr(0.2)] },
  { name: 'center format, no score threshold', op: 'NonMaxSuppression', gpu: false, attrs: { center_point_box: 1 }, inputs: [boxes(1, 15), scores(1, 2, 15), maxOut(10), thr(0.2)] },
  { name: 'defaults: max 0 selects nothing', op: 'NonMaxSuppression', gpu: false, inputs: [boxes(1, 5), scores(1, 1, 5)] },
  { name: 'iou 0 keeps only disjoint boxes', op: 'NonMaxSuppression', gpu: false, inputs: [boxes(1, 20), scores(1, 1, 20), maxOut(20), thr(0)] },
];

runOpCases('non-max-suppression', cases);

runBadInputCases('non-max-suppression', [
  { name: 'boxes shape', op: 'NonMaxSuppression', inputs: [{ dtype: 'float32', dims: [1, 5, 3] }, scores(1, 1, 5)], error: /boxes must be \[batches, boxes, 4\]/ },
  { name: 'scores shape', op: 'NonMaxSuppression', inputs: [boxes(1, 5), scores(1, 1, 6)], error: /scores must be \[1, classes, 5\]/ },
  { name: 'center_point_box', op: 'NonMaxSuppression', attrs: { center_point_box: 2 }, inputs: [boxes(1, 5), scores(1, 1, 5)], error: /center_point_box 2 must be 0 or 1/ },
]);
