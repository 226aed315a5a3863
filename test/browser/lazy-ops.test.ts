// Op families outside the core set are chunks of their own (kernels/lazy-families.ts): a model using
// one (CumSum, in the 'sequence' group) makes the session fetch that group's chunk, in the script tag
// (its worker, and the page with { worker: false }) and in the ESM build's worker; so does a QDQ
// model with the QDQ graph passes' chunk; a page running a plain CNN fetches none of the op or pass
// chunks (requests counted by the test server).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type * as Kiln from '../../runtime/index.ts';
import { testRng } from '../helpers/random.ts';
import { openDeliveryBed, type DeliveryBed } from './helpers/delivery-bed.ts';

type KilnModule = typeof Kiln;
const TIMEOUT = 120_000;
const OP_CHUNK = /\/dist\/kiln\.(iife|worker|core)-(ops-|qdq-)/;

const cumsumModel = encodeOnnxModel({
  opsets: { '': 17 },
  inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [2, 4] }],
  initializers: { axis: new Tensor('int32', [1], []) },
  nodes: [{ opType: 'CumSum', inputs: ['x', 'axis'], outputs: ['y'] }],
});
const cumsumInput = [1, 2, 3, 4, -1, 0.5, 0.25, 8];
const cumsumExpected = [1, 3, 6, 10, -1, -0.5, -0.25, 7.75]; // running sums along each row, by hand

/** A plain CNN: Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax, seeded weights. */
function cnnModel(): Uint8Array {
  const rng = testRng(import.meta.url, 'cnn');
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.range(-0.5, 0.5));
  return encodeOnnxModel({
    opsets: { '': 17 },
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }],
    outputs: [{ name: 'p', dtype: 'float32', dims: [1, 10] }],
    initializers: {
      w: new Tensor('float32', values(4 * 3 * 3 * 3), [4, 3, 3, 3]),
      b: new Tensor('float32', values(4), [4]),
      w2: new Tensor('float32', values(64 * 10), [64, 10]),
      b2: new Tensor('float32', values(10), [10]),
    },
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { opType: 'Relu', inputs: ['c'], outputs: ['r'] },
      { opType: 'MaxPool', inputs: ['r'], outputs: ['m'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { opType: 'Flatten', inputs: ['m'], outputs: ['f'] },
      { opType: 'Gemm', inputs: ['f', 'w2', 'b2'], outputs: ['g'] },
      { opType: 'Softmax', inputs: ['g'], outputs: ['p'] },
    ],
  });
}
const cnnInput = ((): number[] => {
  const rng = testRng(import.meta.url, 'cnn input');
  return Array.from({ length: 3 * 8 * 8 }, () => rng.range(-1, 1));
})();

/** int8 weights through a constant DequantizeLinear into a MatMul: the QDQ passes make it one MatMulNBits. */
const qdqModel = encodeOnnxModel({
  opsets: { '': 17 },
  inputs: [{ name: 'x', dtype: 'float32', dims: [1, 8] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [1, 4] }],
  initializers: {
    w: new Tensor('int8', Int8Array.from({ length: 32 }, (_, i) => ((i * 37) % 255) - 127), [8, 4]),
    s: new Tensor('float32', [0.02], []),
    z: new Tensor('int8', [0], []),
  },
  nodes: [
    { opType: 'DequantizeLinear', inputs: ['w', 's', 'z'], outputs: ['wf'] },
    { opType: 'MatMul', inputs: ['x', 'wf'], outputs: ['y'] },
  ],
});
const qdqInput = Array.from({ length: 8 }, (_, i) => i / 8 - 0.4);
/** x @ (0.02 * w), summed in float64 here: the lowered kernel must agree to float32 rounding. */
const qdqExpected = Array.from({ length: 4 }, (_, j) => qdqInput.reduce((a, x, k) => a + x * 0.02 * ((((k * 4 + j) * 37) % 255) - 127), 0));

let bed: DeliveryBed | undefined;
before(async () => {
  bed = await openDeliveryBed();
});
after(async () => {
  await bed?.close();
});

async function open(page: 'script-tag' | 'esm'): Promise<Page> {
  assert.ok(bed, 'the test bed did not start (see the before hook)');
  const handle = await bed.open(`/pages/${page}.html`);
  await handle.page.waitForFunction(() => (globalThis as { kiln?: unknown }).kiln !== undefined);
  return handle.page;
}

/** Runs `model` in the page on `backend`; the outputs and where each step ran. */
function runIn(page: Page, model: Uint8Array, feed: { name: string; data: number[]; dims: number[] }, backend: string, worker: boolean) {
  return page.evaluate(async ({ bytes, feed, backend, worker }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: [backend as 'webgpu'], worker });
    try {
      const out = await session.run({ [feed.name]: new kiln.Tensor('float32', Float32Array.from(feed.data), feed.dims) });
      const y = Object.values(out)[0]!;
      return { provider: session.executionProvider, dims: [...y.dims], data: Array.from(y.data as Float32Array), where: session.lastPlacement?.steps.map((s) => `${s.opType}:${s.implementation}`) ?? [] };
    } finally {
      await session.release();
    }
  }, { bytes: Array.from(model), feed, backend, worker });
}

for (const [page, worker, chunk] of [
  ['script-tag', true, '/dist/kiln.iife-ops-sequence.js'],
  ['script-tag', false, '/dist/kiln.iife-ops-sequence.js'],
  ['esm', true, '/dist/kiln.worker-ops-sequence.mjs'],
  ['esm', false, '/dist/kiln.core-ops-sequence.mjs'],
] as const) {
  test(`${page} (${worker ? 'worker' : 'in the page'}): a model using a lazily loaded op family fetches its chunk and runs on WebGPU`, { timeout: TIMEOUT }, async () => {
    const p = await open(page);
    const before = bed!.server.count(chunk);
    const r = await runIn(p, cumsumModel, { name: 'x', data: cumsumInput, dims: [2, 4] }, 'webgpu', worker);
    assert.deepEqual(r, { provider: 'webgpu', dims: [2, 4], data: cumsumExpected, where: ['CumSum:webgpu'] });
    assert.equal(bed!.server.count(chunk) - before, 1, `${chunk} fetched once`);
  });
}

for (const [page, worker, chunk] of [
  ['script-tag', true, '/dist/kiln.iife-qdq-passes.js'],
  ['script-tag', false, '/dist/kiln.iife-qdq-passes.js'],
  ['esm', true, '/dist/kiln.worker-qdq-lowering.mjs'],
  ['esm', false, '/dist/kiln.core-qdq-lowering.mjs'],
] as const) {
  test(`${page} (${worker ? 'worker' : 'in the page'}): a QDQ model fetches the QDQ graph passes and runs them`, { timeout: TIMEOUT }, async () => {
    const p = await open(page);
    const before = bed!.server.count(chunk);
    const r = await runIn(p, qdqModel, { name: 'x', data: qdqInput, dims: [1, 8] }, 'webgpu', worker);
    assert.equal(r.provider, 'webgpu');
    assert.deepEqual(r.where.map((w) => w.split(':')[0]), ['MatMulNBits'], 'the QDQ lowering ran');
    r.data.forEach((v, j) => assert.ok(Math.abs(v - qdqExpected[j]!) <= 1e-5, `y[${j}] ${v} vs ${qdqExpected[j]}`));
    assert.equal(bed!.server.count(chunk) - before, 1, `${chunk} fetched once`);
  });
}

for (const [page, worker] of [['script-tag', true], ['script-tag', false], ['esm', true], ['esm', false]] as const) {
  test(`${page} (${worker ? 'worker' : 'in the page'}): a plain CNN fetches none of the op chunks`, { timeout: TIMEOUT }, async () => {
    const p = await open(page);
    const before = bed!.server.count(OP_CHUNK);
    const feed = { name: 'x', data: cnnInput, dims: [1, 3, 8, 8] };
    const gpu = await runIn(p, cnnModel(), feed, 'webgpu', worker);
    const js = await runIn(p, cnnModel(), feed, 'js', worker);
    assert.equal(gpu.provider, 'webgpu');
    assert.ok(gpu.where.length > 0 && gpu.where.every((s) => s.endsWith(':webgpu')), `every step on WebGPU: ${gpu.where.join(', ')}`);
    assert.deepEqual(gpu.dims, [1, 10]);
    gpu.data.forEach((v, i) => assert.ok(Math.abs(v - js.data[i]!) <= 1e-5, `p[${i}]: webgpu ${v} vs js ${js.data[i]}`));
    assert.equal(bed!.server.count(OP_CHUNK) - before, 0, `op chunks fetched: ${bed!.server.requests.filter((r) => OP_CHUNK.test(r)).join(', ')}`);
  });
}

// Every op group's part in the script tag (kiln.iife.js hands each part only the names it imports from
// the shared modules: docs/decisions.md bundle-headroom): a model per group runs in the page and in its
// worker, on WebGPU and wasm, against values worked out here.
const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const groupInput = [-2, -0.5, 0, 0.25, 1, 1.5, 3, -1];
const groupModels: { group: string; model: Uint8Array; dims: number[]; expected: number[] }[] = [
  {
    group: 'transformer',
    model: encodeOnnxModel({
      opsets: { '': 17, 'com.microsoft': 1 },
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 4] }],
      nodes: [{ opType: 'FastGelu', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }],
    }),
    dims: [2, 4],
    expected: groupInput.map(gelu),
  },
  {
    group: 'vision', // the centre 2 x 2 of the 2 x 4 input: columns 1 and 2 of both rows
    model: encodeOnnxModel({
      opsets: { '': 18 },
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 2] }],
      initializers: { shape: new Tensor('int64', BigInt64Array.from([2n, 2n]), [2]) },
      nodes: [{ opType: 'CenterCropPad', inputs: ['x', 'shape'], outputs: ['y'] }],
    }),
    dims: [2, 4],
    expected: [groupInput[1]!, groupInput[2]!, groupInput[5]!, groupInput[6]!],
  },
  {
    group: 'signal', // x times a periodic Hann window of 8: 0.5 - 0.5 cos(2 pi n / 8)
    model: encodeOnnxModel({
      opsets: { '': 17 },
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 4] }],
      initializers: { size: new Tensor('int64', BigInt64Array.from([8n]), []), to24: new Tensor('int64', BigInt64Array.from([2n, 4n]), [2]) },
      nodes: [
        { opType: 'HannWindow', inputs: ['size'], outputs: ['w8'] },
        { opType: 'Reshape', inputs: ['w8', 'to24'], outputs: ['w'] },
        { opType: 'Mul', inputs: ['x', 'w'], outputs: ['y'] },
      ],
    }),
    dims: [2, 4],
    expected: groupInput.map((x, n) => x * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 8))),
  },
  {
    group: 'ml', // ai.onnx.ml Scaler, per feature: (x - offset[j]) * scale[j]
    model: encodeOnnxModel({
      opsets: { '': 17, 'ai.onnx.ml': 1 },
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [2, 4] }],
      nodes: [{ opType: 'Scaler', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['y'], attrs: { offset: { floats: [0.5, 0, -1, 2] }, scale: { floats: [2, -1, 0.5, 1] } } }],
    }),
    dims: [2, 4],
    expected: groupInput.map((x, n) => (x - [0.5, 0, -1, 2][n % 4]!) * [2, -1, 0.5, 1][n % 4]!),
  },
];

for (const worker of [true, false]) {
  for (const { group, model, dims, expected } of groupModels) {
    test(`script-tag (${worker ? 'worker' : 'in the page'}): the '${group}' op part loads and runs on WebGPU and wasm`, { timeout: TIMEOUT }, async () => {
      const p = await open('script-tag');
      const chunk = `/dist/kiln.iife-ops-${group}.js`;
      const before = bed!.server.count(chunk);
      for (const backend of ['webgpu', 'wasm']) {
        const r = await runIn(p, model, { name: 'x', data: groupInput, dims }, backend, worker);
        assert.equal(r.provider, backend);
        assert.equal(r.data.length, expected.length);
        r.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `${backend} y[${i}] ${v} vs ${expected[i]}`));
      }
      assert.ok(bed!.server.count(chunk) - before >= 1, `${chunk} fetched`);
    });
  }
}
