// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear: WebGPU vs the CPU reference.
// Integer outputs must match exactly (tolerance 0); constants of 8/4-bit types live packed on the GPU.
import { runBadInputCases } from './op-errors.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { quantizeReference } from '../../kernels/quantize-linear/op.ts';
import { fromNumbers } from '../../kernels/common/values.ts';
import { Attributes } from '../../core/attributes.ts';
import type { KernelContext } from '../../kernels/contract.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const EXACT = { rtol: 0, atol: 0 };
const f32 = (dims: number[], range: [number, number] = [-3, 3]): InputSpec => ({ dtype: 'float32', dims, range });
const scales = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [0.01, 0.05] });
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));

const quantize: OpCase[] = [
  { name: 'Q per-tensor uint8 with zero point', op: 'QuantizeLinear', opset: 10, inputs: [f32([4, 33]), scales([]), { dtype: 'uint8', dims: [], range: [100, 156] }], tolerance: EXACT },
  { name: 'Q per-tensor int8 saturating', op: 'QuantizeLinear', inputs: [f32([257]), scales([1]), { dtype: 'int8', dims: [1], range: [-20, 20] }], tolerance: EXACT },
  { name: 'Q default zero point (uint8)', op: 'QuantizeLinear', inputs: [f32([5, 7], [-1, 4]), scales([])], tolerance: EXACT },
  { name: 'Q scalar x', op: 'QuantizeLinear', inputs: [f32([]), scales([]), { dtype: 'int8', dims: [], range: [-5, 5] }], tolerance: EXACT },
  // int32 x over scale 2 lands on exact halves: round-half-to-even must pick the even neighbour
  { name: 'Q ties to even (int32 x)', op: 'QuantizeLinear', opset: 19, inputs: [{ dtype: 'int32', dims: [200], range: [-300, 300] }, { dtype: 'float32', dims: [], values: [2] }, { dtype: 'int8', dims: [], values: [3] }], tolerance: EXACT },
  { name: 'Q per-axis axis=1', op: 'QuantizeLinear', opset: 13, inputs: [f32([2, 3, 4, 5]), scales([3]), { dtype: 'uint8', dims: [3], range: [0, 255] }], tolerance: EXACT },
  { name: 'Q per-axis negative axis, constant packed zero points', op: 'QuantizeLinear', opset: 13, attrs: { axis: -1 }, inputs: [f32([3, 4, 7]), scales([7]), { dtype: 'int8', dims: [7], values: ints(7, -50, 50) }], tolerance: EXACT },
  { name: 'Q blocked axis=1 block 2', op: 'QuantizeLinear', opset: 21, attrs: { axis: 1, block_size: 2 }, inputs: [f32([3, 8, 5]), scales([3, 4, 5]), { dtype: 'uint8', dims: [3, 4, 5], range: [0, 255] }], tolerance: EXACT },
  { name: 'Q blocked axis=0 remainder block', op: 'QuantizeLinear', opset: 21, attrs: { axis: 0, block_size: 3 }, inputs: [f32([7, 6]), scales([3, 6]), { dtype: 'int8', dims: [3, 6], range: [-10, 10] }], tolerance: EXACT },
  { name: 'Q output_dtype int16, no zero point', op: 'QuantizeLinear', opset: 21, attrs: { output_dtype: 5 }, inputs: [f32([9, 9], [-800, 800]), scales([])], tolerance: EXACT },
  { name: 'Q uint16 per-axis', op: 'QuantizeLinear', opset: 21, attrs: { axis: 0 }, inputs: [f32([4, 50], [-100, 900]), scales([4]), { dtype: 'uint16', dims: [4], range: [0, 40000] }], tolerance: EXACT },
  { name: 'Q int4 per-axis', op: 'QuantizeLinear', opset: 21, attrs: { axis: 0 }, inputs: [f32([3, 40], [-0.3, 0.3]), scales([3]), { dtype: 'int4', dims: [3], range: [-2, 2] }], tolerance: EXACT },
  { name: 'Q uint4 blocked, constant packed zero points', op: 'QuantizeLinear', opset: 21, attrs: { axis: 1, block_size: 4 }, inputs: [f32([5, 16], [-0.2, 0.4]), scales([5, 4]), { dtype: 'uint4', dims: [5, 4], values: ints(20, 0, 16) }], tolerance: EXACT },
  { name: 'Q float16 x and scale (division in float16)', op: 'QuantizeLinear', opset: 19, inputs: [{ dtype: 'float16', dims: [300], range: [-3, 3] }, { dtype: 'float16', dims: [], range: [0.01, 0.05] }, { dtype: 'uint8', dims: [], range: [100, 150] }], tolerance: EXACT },
  { name: 'Q float16 x, float32 scale', op: 'QuantizeLinear', opset: 19, inputs: [{ dtype: 'float16', dims: [64], range: [-3, 3] }, scales([]), { dtype: 'int8', dims: [], range: [-10, 10] }], tolerance: EXACT },
  { name: 'Q precision=float32 with float16 inputs', op: 'QuantizeLinear', opset: 23, attrs: { precision: 1 }, inputs: [{ dtype: 'float16', dims: [64], range: [-3, 3] }, { dtype: 'float16', dims: [], range: [0.01, 0.05] }, { dtype: 'uint8', dims: [], range: [100, 150] }], tolerance: EXACT },
  { name: 'Q large (2-D dispatch)', op: 'QuantizeLinear', opset: 13, attrs: { axis: 1 }, inputs: [f32([2, 4, 530000]), scales([4]), { dtype: 'int8', dims: [4], range: [-5, 5] }], tolerance: EXACT },
];

const dequantize: OpCase[] = [
  { name: 'DQ uint8 per-tensor', op: 'DequantizeLinear', opset: 10, inputs: [{ dtype: 'uint8', dims: [6, 11], range: [0, 256] }, scales([]), { dtype: 'uint8', dims: [], range: [0, 256] }] },
  { name: 'DQ int8 no zero point', op: 'DequantizeLinear', inputs: [{ dtype: 'int8', dims: [100], range: [-128, 128] }, scales([1])] },
  { name: 'DQ int32 (bias style)', op: 'DequantizeLinear', inputs: [{ dtype: 'int32', dims: [40], range: [-100000, 100000] }, scales([])] },
  { name: 'DQ scalar x', op: 'DequantizeLinear', inputs: [{ dtype: 'int8', dims: [], range: [-128, 128] }, scales([]), { dtype: 'int8', dims: [], range: [-128, 128] }] },
  { name: 'DQ per-axis axis=1', op: 'DequantizeLinear', opset: 13, inputs: [{ dtype: 'uint8', dims: [2, 5, 3, 3], range: [0, 256] }, scales([5]), { dtype: 'uint8', dims: [5], range: [0, 256] }] },
  { name: 'DQ per-axis axis=-2', op: 'DequantizeLinear', opset: 13, attrs: { axis: -2 }, inputs: [{ dtype: 'int8', dims: [3, 6, 4], range: [-128, 128] }, scales([6]), { dtype: 'int8', dims: [6], range: [-20, 20] }] },
  // realistic QDQ weight: a packed int8 constant (fed scale so the node is not folded away)
  { name: 'DQ packed int8 constant weight, per-channel', op: 'DequantizeLinear', opset: 13, attrs: { axis: 0 }, inputs: [{ dtype: 'int8', dims: [6, 3, 3, 3], values: ints(162, -128, 128) }, scales([6]), { dtype: 'int8', dims: [6], values: ints(6, -5, 5) }] },
  { name: 'DQ packed uint8 constant, odd size', op: 'DequantizeLinear', inputs: [{ dtype: 'uint8', dims: [7, 3], values: ints(21, 0, 256) }, scales([]), { dtype: 'uint8', dims: [], values: [128] }] },
  { name: 'DQ blocked axis=1 remainder block', op: 'DequantizeLinear', opset: 21, attrs: { axis: 1, block_size: 4 }, inputs: [{ dtype: 'uint8', dims: [3, 10, 2], range: [0, 256] }, scales([3, 3, 2]), { dtype: 'uint8', dims: [3, 3, 2], range: [0, 256] }] },
  { name: 'DQ int4 packed constant blocked (block 32)', op: 'DequantizeLinear', opset: 21, attrs: { axis: 1, block_size: 32 }, inputs: [{ dtype: 'int4', dims: [8, 64], values: ints(512, -8, 8) }, scales([8, 2]), { dtype: 'int4', dims: [8, 2], values: ints(16, -2, 2) }] },
  { name: 'DQ uint4 fed, per-axis', op: 'DequantizeLinear', opset: 21, attrs: { axis: 0 }, inputs: [{ dtype: 'uint4', dims: [4, 9], range: [0, 16] }, scales([4]), { dtype: 'uint4', dims: [4], range: [0, 16] }] },
  { name: 'DQ int16', op: 'DequantizeLinear', opset: 21, inputs: [{ dtype: 'int16', dims: [50], range: [-32768, 32768] }, scales([]), { dtype: 'int16', dims: [], range: [-1000, 1000] }] },
  { name: 'DQ uint16 per-axis', op: 'DequantizeLinear', opset: 21, attrs: { axis: 1 }, inputs: [{ dtype: 'uint16', dims: [2, 3], range: [0, 65536] }, scales([3]), { dtype: 'uint16', dims: [3], range: [0, 65536] }] },
  { name: 'DQ float16 scale -> float16 output', op: 'DequantizeLinear', opset: 19, inputs: [{ dtype: 'int8', dims: [30], range: [-128, 128] }, { dtype: 'float16', dims: [], range: [0.01, 0.05] }, { dtype: 'int8', dims: [], range: [-3, 3] }], tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: 'DQ output_dtype float16 from float32 scale', op: 'DequantizeLinear', opset: 23, attrs: { output_dtype: 10 }, inputs: [{ dtype: 'uint8', dims: [30], range: [0, 256] }, scales([])], tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: 'DQ large (2-D dispatch)', op: 'DequantizeLinear', opset: 13, inputs: [{ dtype: 'uint8', dims: [4300000], range: [0, 256] }, scales([]), { dtype: 'uint8', dims: [], range: [0, 256] }] },
];

const dynamic: OpCase[] = [
  { name: 'DynamicQ mixed signs', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [f32([7, 9])], tolerance: EXACT },
  { name: 'DynamicQ all positive (min widened to 0)', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [f32([50], [0.5, 3])], tolerance: EXACT },
  { name: 'DynamicQ all negative (max widened to 0)', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [f32([3, 17], [-5, -1])], tolerance: EXACT },
  { name: 'DynamicQ scalar', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [f32([])], tolerance: EXACT },
  { name: 'DynamicQ large', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [f32([300, 1000], [-7, 2])], tolerance: EXACT },
  { name: 'DynamicQ only y used', op: 'DynamicQuantizeLinear', opset: 11, outputs: 1, inputs: [f32([40])], tolerance: EXACT },
];

// The wasm kernels (kernels/quantize-linear/wasm.ts) must run these themselves: odd sizes (SIMD tails), per
// axis, fed and constant parameters, ties, NaN and saturation.
// (NaN is checked on wasm alone below: WGSL leaves NaN's behaviour to the implementation)
const TIES = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e9, -1e9, Infinity, -Infinity, 126.5, 127.5, -128.5, -127.5, 3.49, 0, -0, 200.5, 254.5, 255.5];
const wasmCases: OpCase[] = [
  { name: 'wasm Q uint8 per-tensor, odd size', op: 'QuantizeLinear', opset: 13, inputs: [f32([3, 37]), scales([]), { dtype: 'uint8', dims: [], range: [100, 156] }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm Q int8 ties, NaN, saturation', op: 'QuantizeLinear', opset: 13, inputs: [{ dtype: 'float32', dims: [TIES.length], values: TIES, feed: true }, { dtype: 'float32', dims: [], values: [1] }, { dtype: 'int8', dims: [], values: [0] }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm Q uint8 ties, NaN, saturation, zero point 3', op: 'QuantizeLinear', opset: 13, inputs: [{ dtype: 'float32', dims: [TIES.length], values: TIES, feed: true }, { dtype: 'float32', dims: [], values: [1] }, { dtype: 'uint8', dims: [], values: [3] }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm Q int8 per-axis, constant parameters', op: 'QuantizeLinear', opset: 13, attrs: { axis: 1 }, inputs: [f32([2, 5, 19]), { dtype: 'float32', dims: [5], values: [0.01, 0.02, 0.03, 0.015, 0.05] }, { dtype: 'int8', dims: [5], values: ints(5, -30, 30) }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm Q default zero point', op: 'QuantizeLinear', opset: 13, inputs: [f32([45], [-1, 4]), scales([])], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm DQ uint8 per-tensor, odd size', op: 'DequantizeLinear', opset: 13, inputs: [{ dtype: 'uint8', dims: [5, 21], range: [0, 256] }, scales([]), { dtype: 'uint8', dims: [], range: [0, 256] }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm DQ int8 per-axis axis=0', op: 'DequantizeLinear', opset: 13, attrs: { axis: 0 }, inputs: [{ dtype: 'int8', dims: [4, 3, 11], range: [-128, 128] }, scales([4]), { dtype: 'int8', dims: [4], range: [-20, 20] }], tolerance: EXACT, wasmKernel: true },
  { name: 'wasm DQ int8 no zero point', op: 'DequantizeLinear', opset: 13, inputs: [{ dtype: 'int8', dims: [33], range: [-128, 128] }, scales([])], tolerance: EXACT, wasmKernel: true },
];

runOpCases('quantize-linear', [...quantize, ...dequantize, ...dynamic, ...wasmCases]);

runBadInputCases('quantize-linear', [
  { name: 'per-axis scale of the wrong length', op: 'QuantizeLinear', opset: 13, inputs: [f32([2, 3]), scales([4])], error: /expected a scalar or \[3\]/ },
  { name: 'blocked scale of the wrong shape', op: 'QuantizeLinear', opset: 21, attrs: { axis: 1, block_size: 2 }, inputs: [f32([2, 6]), scales([2, 2])], error: /expected \[2, 3\]/ },
  { name: 'per-axis scale before opset 13', op: 'QuantizeLinear', opset: 10, inputs: [f32([2, 3]), scales([3])], error: /scalar before opset 13/ },
  { name: 'zero point shape differs from scale', op: 'QuantizeLinear', opset: 13, inputs: [f32([2, 3]), scales([3]), { dtype: 'uint8', dims: [2], range: [0, 9] }], error: /differs from y_scale shape/ },
  { name: 'output_dtype differs from the zero point', op: 'QuantizeLinear', opset: 21, attrs: { output_dtype: 3 }, inputs: [f32([4]), scales([]), { dtype: 'uint8', dims: [], range: [0, 9] }], error: /output_dtype int8 differs/ },
  { name: 'DQ zero point type differs from x', op: 'DequantizeLinear', inputs: [{ dtype: 'int8', dims: [4], range: [-9, 9] }, scales([]), { dtype: 'uint8', dims: [], range: [0, 9] }], error: /x_zero_point type uint8 differs from x type int8/ },
  { name: 'DQ float x', op: 'DequantizeLinear', inputs: [f32([4]), scales([])], error: /x type float32 is not one of/ },
  { name: 'DynamicQ float16 x', op: 'DynamicQuantizeLinear', opset: 11, outputs: 3, inputs: [{ dtype: 'float16', dims: [4], range: [-1, 1] }], error: /x type float16 is not one of float32/ },
]);

test('wasm QuantizeLinear: NaN gives the zero point, as the reference', async () => {
  const ctx: KernelContext = { attrs: Attributes.empty(), opset: 13, node: 'q', host: [] };
  for (const zpType of ['int8', 'uint8'] as const) {
    const c: OpCase = { name: 'NaN', op: 'QuantizeLinear', opset: 13, inputs: [{ dtype: 'float32', dims: [19], values: [NaN, 1, NaN, ...TIES.slice(0, 16)], feed: true }, { dtype: 'float32', dims: [], values: [0.5] }, { dtype: zpType, dims: [], values: [7] }] };
    const { bytes, feeds } = buildCaseModel(c);
    const session = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const got = (await session.run(feeds)).out0!;
    assert.equal(session.lastPlacement?.steps[0]?.implementation, 'wasm');
    const want = quantizeReference([feeds.in0!, fromNumbers('float32', [], [0.5]), fromNumbers(zpType, [], [7])], ctx);
    assert.deepEqual(Array.from(got.data as Int8Array), Array.from(want[0]!.data as Int8Array));
    assert.equal((got.data as Int8Array)[0], 7);
    await session.release();
  }
});
