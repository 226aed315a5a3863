// Fake quantization: forward values against an independent plain-JS quantizer (round half to even,
// as ONNX QuantizeLinear), and straight-through gradients against their definition and against
// finite differences of the loss at the quantized point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { activationParams, fakeQuantActivation, fakeQuantWeight, quantizeWeight } from '../../trainer-node/train/fake-quant.ts';
import { initTf } from '../../trainer-node/train/tf-backend.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const random = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * scale);

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

test('activation fake-quant: forward is QuantizeLinear then DequantizeLinear (uint8), gradient passes inside the range only', async () => {
  await initTf();
  const x = random(500, 3);
  x[0] = 0;
  const p = activationParams(-1.5, 2.2);
  const f = (t: tf.Tensor): tf.Tensor => fakeQuantActivation(t, p);
  const dy = random(500);
  const [y, g] = tf.tidy(() => {
    const xt = tf.tensor1d(x);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.tensor1d(dy))))(xt);
    return [f(xt).dataSync(), g.dataSync()];
  });
  const lo = -p.zeroPoint * p.scale;
  const hi = (255 - p.zeroPoint) * p.scale;
  for (let i = 0; i < x.length; i++) {
    const q = Math.min(255, Math.max(0, roundHalfEven(Math.fround(x[i]! / p.scale)) + p.zeroPoint));
    assert.ok(Math.abs(y[i]! - (q - p.zeroPoint) * p.scale) <= 1e-6, `forward at ${i}: ${y[i]} for x ${x[i]}`);
    const want = x[i]! >= lo && x[i]! <= hi ? dy[i]! : 0;
    assert.ok(g[i] === Math.fround(want), `gradient at ${i} (x ${x[i]}, range [${lo}, ${hi}]): ${g[i]} vs ${want}`);
  }
  assert.equal(y[0], 0, 'zero is exactly representable');
});

test('weight fake-quant: int8 per-channel and int4 block values match a plain-JS quantizer', async () => {
  await initTf();
  const [k, n] = [70, 5];
  const w = random(k * n, 0.3);
  for (const scheme of [{ kind: 'per-channel', bits: 8 }, { kind: 'block', bits: 4, blockSize: 32 }] as const) {
    const { q, scale, dequantized } = quantizeWeight(tf.tensor2d(w, [k, n]), scheme);
    const qs = q.dataSync();
    const ss = scale.dataSync();
    const ds = dequantized.dataSync();
    const qmax = scheme.bits === 8 ? 127 : 7;
    const block = scheme.kind === 'block' ? scheme.blockSize : k;
    for (let c = 0; c < n; c++) {
      for (let b0 = 0; b0 < k; b0 += block) {
        let m = 0;
        for (let r = b0; r < Math.min(k, b0 + block); r++) m = Math.max(m, Math.abs(w[r * n + c]!));
        const s = ss[scheme.kind === 'block' ? (b0 / block) * n + c : c]!;
        assert.ok(Math.abs(s - m / qmax) <= 1e-6 * (m / qmax), `scale of column ${c} block ${b0}`);
        for (let r = b0; r < Math.min(k, b0 + block); r++) {
          const i = r * n + c;
          const want = Math.max(-qmax, Math.min(qmax, roundHalfEven(Math.fround(w[i]! / s))));
          assert.ok(Math.abs(qs[i]! - want) <= (Math.abs(Math.abs(w[i]! / s) % 1 - 0.5) < 1e-4 ? 1 : 0), `q at (${r}, ${c}): ${qs[i]} vs ${want}`);
          assert.equal(ds[i], Math.fround(qs[i]! * s));
        }
      }
    }
    tf.dispose([q, scale, dequantized]);
  }
});

test('weight fake-quant: the straight-through gradient is the loss gradient at the quantized weights (finite differences)', async () => {
  await initTf();
  const [k, n] = [6, 3];
  const w = random(k * n);
  const x = random(4 * k);
  const target = random(4 * n);
  const scheme = { kind: 'per-channel', bits: 8 } as const;
  // L(v) = sum((x v - target)^2): smooth, so its gradient at the quantized point is well defined.
  const loss = (v: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.sub(tf.matMul(tf.tensor2d(x, [4, k]), v as tf.Tensor2D), tf.tensor2d(target, [4, n]))));
  const ste = tf.tidy(() => tf.grad((v: tf.Tensor) => loss(fakeQuantWeight(v, scheme)))(tf.tensor2d(w, [k, n])).dataSync());
  const wq = tf.tidy(() => quantizeWeight(tf.tensor2d(w, [k, n]), scheme).dequantized.dataSync());
  const h = 1e-2;
  for (let i = 0; i < w.length; i++) {
    const plus = Float32Array.from(wq);
    const minus = Float32Array.from(wq);
    plus[i]! += h;
    minus[i]! -= h;
    const fd = tf.tidy(() => (loss(tf.tensor2d(plus, [k, n])).dataSync()[0]! - loss(tf.tensor2d(minus, [k, n])).dataSync()[0]!) / (2 * h));
    assert.ok(Math.abs(ste[i]! - fd) <= 1e-2 * (1 + Math.abs(fd)), `element ${i}: STE ${ste[i]} vs finite difference ${fd}`);
  }
});
