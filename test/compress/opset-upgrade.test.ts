// The opset upgrade `kiln compress` applies before adding quantization nodes (per-channel scales
// need opset 13, int4 blocks 21): onnxruntime-web runs the opset 9 original and the upgraded model
// on the same fresh input and must agree exactly, for every op whose signature changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { upgradeOpset } from '../../trainer-node/compress/opset-upgrade.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

ort.env.wasm.numThreads = 1;

const opset9: WriterModel = {
  nodes: [
    { opType: 'Clip', name: 'clip', inputs: ['x'], outputs: ['a'], attrs: { min: { float: -0.5 }, max: { float: 0.7 } } },
    { opType: 'Pad', name: 'pad', inputs: ['a'], outputs: ['b'], attrs: { pads: [0, 0, 1, 1, 0, 0, 1, 1], value: { float: 0.25 } } },
    { opType: 'Slice', name: 'slice', inputs: ['b'], outputs: ['c'], attrs: { starts: [1], ends: [5], axes: [3] } },
    { opType: 'Upsample', name: 'up', inputs: ['c', 'scales'], outputs: ['d'], attrs: { mode: 'nearest' } },
    { opType: 'Dropout', name: 'drop', inputs: ['d'], outputs: ['d2'], attrs: { ratio: { float: 0.3 } } },
    { opType: 'ReduceMean', name: 'mean', inputs: ['d2'], outputs: ['e'], attrs: { axes: [2], keepdims: 1 } },
    { opType: 'Squeeze', name: 'squeeze', inputs: ['e'], outputs: ['f'], attrs: { axes: [2] } },
    // opset < 13 Softmax normalizes over all axes from `axis` on (here 3 x 8 values jointly)
    { opType: 'Softmax', name: 'softmax', inputs: ['f'], outputs: ['g'], attrs: { axis: 1 } },
    { opType: 'Unsqueeze', name: 'unsqueeze', inputs: ['g'], outputs: ['h'], attrs: { axes: [0] } },
    { opType: 'Split', name: 'split', inputs: ['h'], outputs: ['s1', 's2'], attrs: { axis: 3, split: [3, 5] } },
    { opType: 'Split', name: 'halves', inputs: ['h'], outputs: ['t1', 't2'], attrs: { axis: 3 } },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 4, 6] }],
  outputs: ['s1', 's2', 't1', 't2'].map((name) => ({ name, dtype: 'float32' as const })),
  initializers: new Map([['scales', new Tensor('float32', new Float32Array([1, 1, 2, 2]), [4])]]),
  opsets: { '': 9 },
};

async function run(m: WriterModel, x: Float32Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(encodeOnnxModel(m), { executionProviders: ['wasm'] });
  const out = await s.run({ x: new ort.Tensor('float32', x, [2, 3, 4, 6]) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

test('opset 9 -> 13 and -> 21: onnxruntime-web gives identical results', async () => {
  const x = Float32Array.from({ length: 144 }, () => rng.uniform() * 2 - 1);
  const want = await run(opset9, x);
  for (const target of [13, 21]) {
    const up = upgradeOpset(opset9, target);
    assert.equal(up.opsets?.[''], target);
    const got = await run(up, x);
    for (const [k, w] of Object.entries(want)) assert.deepEqual(Array.from(got[k]!), Array.from(w), `opset ${target}, output ${k}`);
  }
});

test('ops the upgrade does not know are named', () => {
  const m: WriterModel = { ...opset9, nodes: [{ opType: 'TopK', name: 'topk', inputs: ['x'], outputs: ['v', 'i'], attrs: { k: 2 } }, { opType: 'Scatter', name: 'sc', inputs: ['x', 'x', 'x'], outputs: ['y'] }] };
  assert.throws(() => upgradeOpset(m, 13), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_FEATURE' && /TopK \(topk\); Scatter \(sc\)/.test(e.message));
});
