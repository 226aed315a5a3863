// kiln.QuantizeDequantize (the QDQ lowering's fused activation pair): WebGPU vs the CPU reference,
// which is QuantizeLinear's reference followed by DequantizeLinear's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromNumbers } from '../../kernels/common/values.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { jsKernelFor } from '../../kernels/js/kernels.ts';
import { Attributes } from '../../core/attributes.ts';
import { runOpCases, Tensor, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them (kernels/lazy-families.ts)

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const floats = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + rng.uniform() * (hi - lo));
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo + 1)));
// x / scale lands on exact halves sometimes: values on the 0.5 grid of the scale exercise round-half-even
const halves = (n: number, s: number): number[] => Array.from({ length: n }, () => (Math.floor(rng.uniform() * 80) - 40 + 0.5) * s);

const cases: OpCase[] = [
  {
    name: 'uint8 per-tensor with zero point, saturating',
    op: 'QuantizeDequantize', domain: 'kiln',
    inputs: [{ dtype: 'float32', dims: [3, 5, 7], range: [-3, 3] }, { dtype: 'float32', dims: [], values: floats(1, 0.01, 0.02) }, { dtype: 'uint8', dims: [], values: ints(1, 60, 190) }],
  },
  {
    name: 'uint8 without zero point (default type), ties to even',
    op: 'QuantizeDequantize', domain: 'kiln',
    inputs: [{ dtype: 'float32', dims: [64], values: halves(64, 0.0625), feed: true }, { dtype: 'float32', dims: [], values: [0.0625] }],
  },
  {
    // parameters fed at run time: read from their buffers, not the uniform block
    name: 'int8 per-tensor, fed scale and zero point',
    op: 'QuantizeDequantize', domain: 'kiln', attrs: { kiln_opset: 13 },
    inputs: [{ dtype: 'float32', dims: [4, 9], range: [-3, 3] }, { dtype: 'float32', dims: [], range: [0.01, 0.05] }, { dtype: 'int8', dims: [], range: [-20, 20] }],
  },
  {
    name: 'int8 per-axis (axis 1)',
    op: 'QuantizeDequantize', domain: 'kiln', attrs: { axis: 1, kiln_opset: 13 },
    inputs: [{ dtype: 'float32', dims: [2, 4, 6] }, { dtype: 'float32', dims: [4], values: floats(4, 0.005, 0.03) }, { dtype: 'int8', dims: [4], values: ints(4, -20, 20) }],
  },
  {
    name: 'int4 blocked (opset 21)',
    op: 'QuantizeDequantize', domain: 'kiln', attrs: { axis: 1, block_size: 4, kiln_opset: 21 },
    inputs: [{ dtype: 'float32', dims: [3, 10] }, { dtype: 'float32', dims: [3, 3], values: floats(9, 0.1, 0.4) }, { dtype: 'int4', dims: [3, 3], values: ints(9, -3, 3) }],
  },
];

// the per-tensor float32 cases must run the wasm kernel (kernels/quantize-dequantize/wasm.ts)
const wasmCases: OpCase[] = [
  { ...cases[0]!, name: `${cases[0]!.name} [wasm]`, wasmKernel: true, tolerance: { rtol: 0, atol: 0 } },
  { ...cases[1]!, name: `${cases[1]!.name} [wasm]`, wasmKernel: true, tolerance: { rtol: 0, atol: 0 } },
  {
    name: 'int8 per-tensor, odd size [wasm]',
    op: 'QuantizeDequantize', domain: 'kiln', wasmKernel: true, tolerance: { rtol: 0, atol: 0 },
    inputs: [{ dtype: 'float32', dims: [67], range: [-5, 5] }, { dtype: 'float32', dims: [], values: floats(1, 0.01, 0.05) }, { dtype: 'int8', dims: [], values: ints(1, -20, 20) }],
  },
];

runOpCases('quantize-dequantize', [...cases, ...wasmCases]);

test('the CPU fast path equals QuantizeLinear then DequantizeLinear, bit for bit', () => {
  const q = resolveDefinition('', 'QuantizeLinear')!;
  const dq = resolveDefinition('', 'DequantizeLinear')!;
  const fused = resolveDefinition('kiln', 'QuantizeDequantize')!;
  const ctx = { attrs: Attributes.empty(), opset: 13, node: 'n', host: [] };
  for (const [type, zp] of [['uint8', 131], ['int8', -7]] as const) {
    const s = 0.01 + rng.uniform() * 0.05;
    const x = new Tensor('float32', Float32Array.from([...halves(200, s), ...floats(200, -5, 5), NaN, -0]), [402]);
    const scale = new Tensor('float32', new Float32Array([s]), []);
    const z = fromNumbers(type, [], [zp]);
    const want = dq.reference([q.reference([x, scale, z], ctx)[0], scale, z], ctx)[0]!;
    const got = jsKernelFor(fused)([x, scale, z], ctx)[0]!;
    assert.deepEqual(Array.from(got.data as Float32Array), Array.from(want.data as Float32Array), type);
  }
});
