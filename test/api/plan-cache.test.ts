// A session fed many input shapes keeps at most MAX_CACHED_PLANS prepared plans (runtime/api/
// plan-cache.ts): the least recently used is released and re-planned if that shape comes back, with
// the same answers. Before, every shape's plan was kept for good: on wasm each held its own packed
// weights and arena (memory grew with every new shape), on WebGPU its own buffers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CACHED_PLANS, PlanCache } from '../../runtime/api/plan-cache.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

test('PlanCache: least recently used released past the limit, failed entries forgotten, Infinity keeps all', async () => {
  const released: string[] = [];
  const plan = (name: string): Promise<{ prepared: { release(): void }; name: string }> => Promise.resolve({ name, prepared: { release: () => void released.push(name) } });
  const c = new PlanCache<{ prepared: { release(): void }; name: string }>();
  for (let i = 0; i < MAX_CACHED_PLANS; i++) c.set(`k${i}`, plan(`k${i}`));
  assert.ok(c.get('k0'), 'k0 used again: now the most recent');
  c.set('new', plan('new'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(released, ['k1'], 'the least recently used, not the oldest set');
  assert.equal(c.size, MAX_CACHED_PLANS);
  assert.equal(c.get('k1'), undefined);
  const failing = Promise.reject(new Error('prepare failed'));
  c.set('bad', failing, Infinity);
  await new Promise((r) => setImmediate(r));
  assert.equal(c.get('bad'), undefined, 'a failed plan is not kept');
  for (let i = 0; i < 20; i++) c.set(`all${i}`, plan(`all${i}`), Infinity);
  assert.equal(c.size, MAX_CACHED_PLANS + 20);
  await c.clear();
  assert.equal(c.size, 0);
  assert.equal(released.length, 1 + MAX_CACHED_PLANS + 20, 'clear releases every plan');
});

const K = 64;
const N = 48;
const rng = testRng(import.meta.url);
const weight = new Tensor('float32', Float32Array.from(rng.floats(K * N, -1, 1)), [K, N]);
const bias = new Tensor('float32', Float32Array.from(rng.floats(N, -1, 1)), [N]);
const model = encodeOnnxModel({
  nodes: [
    { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
    { opType: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: ['rows', K] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
  initializers: { w: weight, b: bias },
});

/** The plain reference: y = x w + b, in doubles. */
function reference(x: Float32Array, rows: number): Tensor<'float32'> {
  const w = weight.data as Float32Array;
  const b = bias.data as Float32Array;
  const y = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[r * K + k]! * w[k * N + n]!;
    y[r * N + n] = s + b[n]!;
  }
  return new Tensor('float32', y, [rows, N]);
}

async function runRows(s: InferenceSession, rows: number): Promise<void> {
  const x = Float32Array.from(rng.floats(rows * K, -1, 1));
  const y = (await s.run({ x: new Tensor('float32', x, [rows, K]) })).y!;
  const bad = compareTensors(y, reference(x, rows), { rtol: 1e-4, atol: 1e-5 });
  assert.equal(bad, undefined, `rows ${rows} (seed ${rng.seed}): ${bad}`);
}

for (const backend of ['js', 'wasm', 'webgpu'] as const) {
  test(`${backend}: 48 input shapes, then an evicted shape and a kept one again: right answers`, async () => {
    console.log(`plan cache ${backend}: seed ${rng.seed}`);
    const s = await InferenceSession.create(model, { executionProviders: [backend] });
    try {
      for (let rows = 1; rows <= 48; rows++) await runRows(s, rows);
      await runRows(s, 1); // evicted long ago: planned again
      await runRows(s, 48); // still kept
      await runRows(s, 2); // evicted: planned again, over a region the evictions left
    } finally {
      await s.release();
    }
  });
}

test('wasm: the memory the plans hold stays bounded over 48 input shapes', async () => {
  const alone = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  await runRows(alone, 48);
  const largest = alone.lastPlacement!.planBytes!;
  await alone.release();
  assert.ok(largest > K * N * 4, `one plan holds its packed weights at least: ${largest} bytes`);

  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    for (let rows = 1; rows <= 48; rows++) await runRows(s, rows);
    const held = s.lastPlacement!.planBytes!;
    // Kept for good, the 48 plans held about 48 x the weights; bounded, at most MAX_CACHED_PLANS plans, none above the largest.
    assert.ok(held <= MAX_CACHED_PLANS * largest, `plans hold ${held} bytes after 48 shapes; one plan for 48 rows holds ${largest}`);
    assert.ok(held >= largest, `the live plans hold at least the last one: ${held} vs ${largest}`);
  } finally {
    await s.release();
  }
});
