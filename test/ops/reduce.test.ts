import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });
const axesIn = (axes: number[]): InputSpec => ({ dtype: 'int64', dims: [axes.length], values: axes });

const REDUCE_OPS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
// LogSum needs positive inputs; Prod over many elements needs values near 1 to stay finite.
const rangeFor = (op: string): [number, number] | undefined => (op === 'ReduceLogSum' ? [0.1, 2] : op === 'ReduceProd' ? [0.9, 1.1] : undefined);

const cases: OpCase[] = [
  ...REDUCE_OPS.flatMap((op): OpCase[] => {
    const r = rangeFor(op);
    // Long Sum/Mean rows of mixed signs cancel: a float32 sum's error scales with sum |x|, not with
    // the result, so rtol 1e-4 on a result near 0 failed by chance (seed 4151206909: 700 values, sum
    // 0.13, error 3e-5). Non-negative values cannot cancel: each rounding is at most 2^-24 of a partial
    // sum <= the result, so the error is <= (n - 1) * 2^-24 relative (4.2e-5 at n = 700; tree
    // reductions log2(n) * 2^-24), and at n = 3000 the roundings' spread (~2^-24 * sqrt(n)) puts 1e-4
    // beyond 50 standard deviations: false failures far below 1e-6 per run.
    const long: [number, number] | undefined = op === 'ReduceSum' || op === 'ReduceMean' ? [0, 1] : r;
    return [
      // opset 18: axes as an input
      { name: `${op} last axis keepdims`, op, opset: 18, inputs: [f32([3, 4, 5], r), axesIn([-1])] },
      { name: `${op} middle axis no keepdims`, op, opset: 18, attrs: { keepdims: 0 }, inputs: [f32([3, 4, 5], r), axesIn([1])] },
      { name: `${op} two axes`, op, opset: 18, inputs: [f32([2, 3, 4, 5], r), axesIn([0, 2])] },
      { name: `${op} all axes (input omitted)`, op, opset: 18, attrs: { keepdims: 0 }, inputs: [f32([6, 7], r)] },
      { name: `${op} long rows (workgroup per output)`, op, opset: 18, inputs: [f32([5, 3000], long), axesIn([1])] },
      { name: `${op} long strided rows`, op, opset: 18, inputs: [f32([700, 6], long), axesIn([0])] },
      // opset 13 (ReduceSum excepted): axes as an attribute
      { name: `${op} opset 13 attribute axes`, op, opset: 13, attrs: op === 'ReduceSum' ? {} : { axes: [0, -1] }, inputs: op === 'ReduceSum' ? [f32([4, 3, 2], r), axesIn([0, -1])] : [f32([4, 3, 2], r)] },
      { name: `${op} rank 1`, op, opset: 18, inputs: [f32([9], r), axesIn([0])] },
      // an empty reduced axis: every output is the op's value over nothing (0, -inf, 1, NaN for Mean...)
      { name: `${op} empty reduced axis`, op, opset: 18, inputs: [f32([2, 0, 3], r), axesIn([1])] },
    ];
  }),
  { name: 'ReduceSum rank 0', op: 'ReduceSum', opset: 18, inputs: [f32([])] },
  // an empty input has nothing to bind on the GPU: the CPU writes the identities (-inf for Max)
  { name: 'ReduceMax empty set', op: 'ReduceMax', opset: 18, inputs: [f32([2, 0, 4]), axesIn([1])], gpu: false },
  { name: 'ReduceLogSumExp large values (exp would overflow unshifted)', op: 'ReduceLogSumExp', opset: 18, inputs: [f32([3, 100], [80, 100]), axesIn([1])] },
  // log(0) must be exactly -inf (software adapters' log() returns about -88)
  { name: 'ReduceLogSum of zeros', op: 'ReduceLogSum', opset: 18, inputs: [f32([3, 4], [0, 0]), axesIn([1])] },
  { name: 'ReduceLogSum of zeros, long rows', op: 'ReduceLogSum', opset: 18, inputs: [f32([2, 300], [0, 0]), axesIn([1])] },
  { name: 'ReduceSum noop_with_empty_axes', op: 'ReduceSum', opset: 18, attrs: { noop_with_empty_axes: 1 }, inputs: [f32([3, 4]), { dtype: 'int64', dims: [0], values: [] }] },
  { name: 'ReduceSum int32', op: 'ReduceSum', opset: 18, inputs: [{ dtype: 'int32', dims: [4, 100] }, axesIn([1])] },
  { name: 'ReduceMean int32 (truncates)', op: 'ReduceMean', opset: 18, inputs: [{ dtype: 'int32', dims: [4, 7] }, axesIn([1])] },
  { name: 'ReduceMax int32 long', op: 'ReduceMax', opset: 18, inputs: [{ dtype: 'int32', dims: [3, 500] }, axesIn([1])] },
  { name: 'ReduceMin uint8', op: 'ReduceMin', opset: 18, inputs: [{ dtype: 'uint8', dims: [3, 9], range: [0, 255] }, axesIn([0])] },
  // contiguous rows whose length is a multiple of 4: read as vec4 on software adapters, lanes combined in order
  { name: 'ReduceMax uint8 rows of 8', op: 'ReduceMax', opset: 18, inputs: [{ dtype: 'uint8', dims: [5, 2, 8], range: [0, 255] }, axesIn([2])] },
  { name: 'ReduceMean rows of 12 over two contiguous axes', op: 'ReduceMean', opset: 18, inputs: [f32([3, 2, 3, 4]), axesIn([2, 3])] },
  { name: 'ReduceMax bool', op: 'ReduceMax', opset: 20, inputs: [{ dtype: 'bool', dims: [4, 5] }, axesIn([1])] },
  { name: 'ReduceL2 int32', op: 'ReduceL2', opset: 18, inputs: [{ dtype: 'int32', dims: [4, 7] }, axesIn([1])] },
  { name: 'ReduceSum many outputs (2-D dispatch)', op: 'ReduceSum', opset: 18, inputs: [f32([4200000, 2]), axesIn([1])] },
  { name: 'ReduceMean many long rows (2-D dispatch)', op: 'ReduceMean', opset: 18, inputs: [f32([70000, 64]), axesIn([1])] },
  ...['ArgMax', 'ArgMin'].flatMap((op): OpCase[] => [
    { name: `${op} default axis`, op, inputs: [f32([3, 4, 5])] },
    { name: `${op} last axis no keepdims`, op, attrs: { axis: -1, keepdims: 0 }, inputs: [f32([3, 4, 5])] },
    { name: `${op} select_last_index with ties`, op, attrs: { axis: 1, select_last_index: 1 }, inputs: [{ dtype: 'int32', dims: [4, 6], range: [0, 3] }] },
    { name: `${op} first index with ties`, op, attrs: { axis: 1 }, inputs: [{ dtype: 'int32', dims: [4, 6], range: [0, 3] }] },
    { name: `${op} long rows`, op, attrs: { axis: 1 }, inputs: [f32([3, 5000])] },
    { name: `${op} long rows ties last`, op, attrs: { axis: 0, select_last_index: 1 }, inputs: [{ dtype: 'int32', dims: [300, 3], range: [0, 4] }] },
    { name: `${op} rank 1`, op, inputs: [f32([17])] },
    // the wasm kernel (kernels/wasm/src/argmax.c): float32, every axis position, odd sizes
    { name: `${op} wasm middle axis odd`, op, attrs: { axis: 1 }, inputs: [f32([3, 7, 5])], wasmKernel: true },
    { name: `${op} wasm last axis no keepdims`, op, attrs: { axis: -1, keepdims: 0 }, inputs: [f32([2, 3, 13])], wasmKernel: true },
    { name: `${op} wasm first axis select_last_index`, op, attrs: { axis: 0, select_last_index: 1 }, inputs: [f32([9, 2, 3])], wasmKernel: true },
    { name: `${op} wasm rank 1`, op, inputs: [f32([31])], wasmKernel: true },
  ]),
  // The wasm kernels (kernels/wasm/src/pool.c rows: trailing axes; reduce.c: a leading or middle
  // block, vectorized along the inner axis by 16, 4 and a tail): odd lengths, keepdims off
  ...['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2'].flatMap((op): OpCase[] => [
    { name: `${op} wasm last axis odd`, op, opset: 18, inputs: [f32([5, 7]), axesIn([-1])], wasmKernel: true },
    { name: `${op} wasm two trailing axes, keepdims 0`, op, opset: 18, attrs: { keepdims: 0 }, inputs: [f32([3, 5, 3]), axesIn([1, 2])], wasmKernel: true },
    { name: `${op} wasm all axes (none given)`, op, opset: 18, inputs: [f32([3, 11])], wasmKernel: true },
    { name: `${op} wasm size-1 axis between`, op, opset: 13, attrs: { axes: [1, 3] }, inputs: [f32([2, 5, 1, 6])], wasmKernel: true },
    { name: `${op} wasm leading axis, inner 23`, op, opset: 18, inputs: [f32([5, 23]), axesIn([0])], wasmKernel: true },
    { name: `${op} wasm middle axes, inner 3`, op, opset: 18, attrs: { keepdims: 0 }, inputs: [f32([2, 3, 5, 3]), axesIn([1, 2])], wasmKernel: true },
    { name: `${op} wasm channel axis of NCHW (inner 37)`, op, opset: 18, inputs: [f32([2, 6, 37]), axesIn([1])], wasmKernel: true },
    { name: `${op} wasm declines two separate blocks`, op, opset: 18, inputs: [f32([3, 4, 5]), axesIn([0, 2])] },
  ]),
];

runOpCases('reduce', cases);
// Rows of 64 or more take the workgroup-per-output form on hardware GPUs.

runBadInputCases('reduce', [
  { name: 'axis out of range', op: 'ReduceSum', opset: 18, inputs: [f32([2, 3]), axesIn([5])], error: /axis 5 is out of range for rank 2/ },
  { name: 'repeated axis', op: 'ReduceMax', opset: 13, attrs: { axes: [1, -1] }, inputs: [f32([2, 3])], error: /repeat an axis/ },
  { name: 'bool ReduceSum', op: 'ReduceSum', opset: 18, inputs: [{ dtype: 'bool', dims: [2] }], error: /type bool is not one of/ },
  { name: 'ArgMax axis out of range', op: 'ArgMax', attrs: { axis: 3 }, inputs: [f32([2, 3])], error: /axis 3 is out of range/ },
]);
