// The wasm Conv2DBackpropFilter composition (a conv of x by dy; per-tap slices + matMuls when dilated) against
// TF.js's own cpu-backend kernel, through tf.grad, on fresh random inputs and several geometries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterPerTap } from '../../trainer-node/train/conv2d-backprop-filter.ts';
import { initTf } from '../../trainer-node/train/tf-backend.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

interface Case {
  readonly x: [number, number, number, number];
  readonly k: [number, number, number, number];
  readonly strides: number;
  readonly pad: 'same' | 'valid' | number;
}

const CASES: readonly Case[] = [
  { x: [2, 7, 7, 3], k: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 8, 9, 2], k: [3, 3, 2, 5], strides: 2, pad: 'same' },
  { x: [1, 9, 8, 4], k: [2, 3, 4, 3], strides: 2, pad: 'valid' },
  { x: [3, 6, 6, 1], k: [5, 5, 1, 2], strides: 1, pad: 'valid' },
  { x: [1, 10, 10, 2], k: [3, 3, 2, 2], strides: 2, pad: 1 },
  { x: [4, 28, 28, 1], k: [3, 3, 1, 16], strides: 1, pad: 'same' },
];

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
const size = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

function filterGrad(xs: Float32Array, ws: Float32Array, dys: Float32Array, c: Case): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x);
    const w = tf.tensor4d(ws, c.k);
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = tf.tensor(dys, y.shape);
    const g = tf.grad((wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wv as tf.Tensor4D, c.strides, c.pad), dy)))(w);
    return g.dataSync() as Float32Array;
  });
}

test('Conv2DBackpropFilter on wasm (composition) matches the cpu backend kernel', async () => {
  await initTf('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  for (const c of CASES) {
    const xs = random(size(c.x));
    const ws = random(size(c.k));
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.k) as tf.Tensor4D, c.strides, c.pad).shape);
    const dys = random(size(outShape));
    const got = filterGrad(xs, ws, dys, c);
    // the per-tap fallback (used for dilated or negatively padded convs), called directly
    const perTap = tf.tidy(() => conv2dBackpropFilterPerTap(tf.tensor4d(xs, c.x), tf.tensor(dys, outShape) as tf.Tensor4D, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.k }).dataSync());
    await tf.setBackend('cpu');
    const want = filterGrad(xs, ws, dys, c);
    await tf.setBackend('wasm');
    assert.equal(got.length, want.length);
    for (const [name, values] of [['conv form via tf.grad', got], ['per-tap form', perTap]] as const) {
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(values[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      assert.ok(worst < 1e-4, `${name}, case ${JSON.stringify(c)}: max relative error ${worst}`);
    }
  }
});
