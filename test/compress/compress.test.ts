// `kiln compress` end to end on a small CNN classifier: the .kiln it writes runs in Kiln (CPU and
// WebGPU), the QDQ ONNX it writes runs in onnxruntime-web, and both agree; quantization error vs
// the float model (run by onnxruntime-web) stays small on fresh inputs from the calibration
// distribution; --keep, the sensitivity report, provenance and the drift reference are checked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compressModel, type CompressOptions } from '../../trainer-node/compress/compress.ts';
import { TINY_INPUT, tinyWorkspace } from './tiny-model.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

ort.env.wasm.numThreads = 1;

const summary: string[] = [];
after(() => console.log(summary.join('\n')));

const options = (ws: ReturnType<typeof tinyWorkspace>, extra: Partial<CompressOptions>): CompressOptions => ({
  input: ws.model, bits: 8, calib: ws.calib, method: 'minmax', percentile: 99.99, block: 32, keep: [],
  out: join(ws.dir, 'model.kiln'), onnxOut: join(ws.dir, 'model.qdq.onnx'), samples: 12, sensitivitySamples: 2, freeDim: 8, commandLine: 'kiln compress (test)',
  random: () => rng.uniform(), // the reservoir and synthetic inputs replay from the run's seed
  ...extra,
});

/** A fresh input from the calibration distribution (see tiny-model.ts). */
const freshInput = (): Float32Array => Float32Array.from({ length: TINY_INPUT.reduce((a, b) => a * b, 1) }, (_, i) => (i % 12) / 12 + rng.uniform() * 0.5);
const dims = [1, ...TINY_INPUT];

async function ortRun(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const out = await s.run({ x: new ort.Tensor('float32', x, dims) });
  await s.release();
  return out.y!.data as Float32Array;
}

async function kilnRun(bytes: Uint8Array, x: Float32Array, ep: 'js' | 'wasm' | 'webgpu'): Promise<{ y: Float32Array; session: { bundle: unknown } }> {
  const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
  const out = await s.run({ x: new Tensor('float32', x, dims) });
  if (ep === 'webgpu') assert.equal(s.lastPlacement?.cpu, 0, 'a step fell back to the CPU');
  const bundle = s.bundle;
  await s.release();
  return { y: out.y!.data as Float32Array, session: { bundle } };
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const argmax = (a: Float32Array): number => a.indexOf(Math.max(...a));

function weightTypes(onnx: Uint8Array): Map<string, string> {
  const m = readOnnxModel(onnx);
  const producer = new Map(m.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const types = new Map<string, string>();
  for (const n of m.graph.nodes) {
    if (!['Conv', 'MatMul', 'Gemm'].includes(n.opType)) continue;
    const w = n.inputs[1]!;
    const dq = producer.get(w);
    types.set(n.name, dq?.opType === 'DequantizeLinear' ? m.graph.initializers.get(dq.inputs[0]!)!.type : m.graph.initializers.get(w)?.type ?? '?');
  }
  return types;
}

test('int8: .kiln and QDQ ONNX from calibration data; Kiln matches onnxruntime-web on the QDQ model', async () => {
  const ws = tinyWorkspace();
  const o = options(ws, {});
  const r = await compressModel(o);
  assert.deepEqual(readdirSync(ws.dir).filter((f) => f.includes('.tmp')), [], 'temporary files left behind');
  assert.equal(r.layers, 4);
  assert.equal(r.quantized, 4);
  assert.equal(r.sensitivity.length, 4);
  for (let i = 1; i < r.sensitivity.length; i++) assert.ok(r.sensitivity[i - 1]!.error.meanAbs >= r.sensitivity[i]!.error.meanAbs, 'sensitivity report is not worst first');

  const kiln = new Uint8Array(readFileSync(o.out));
  const qdq = new Uint8Array(readFileSync(o.onnxOut!));
  assert.deepEqual([...weightTypes(qdq).values()], ['int8', 'int8', 'int8', 'int8']);
  const qOps = readOnnxModel(qdq).graph.nodes.filter((n) => n.opType === 'QuantizeLinear').length;
  assert.ok(qOps >= 4, `only ${qOps} activation QuantizeLinear nodes`);
  const bundle = await readKilnBundle(kiln);
  assert.ok(bundle.header.tensors.filter((t) => t.dtype === 'int8').length >= 4, 'the bundle does not store int8 weights');
  const meta = bundle.spec.metadata!;
  assert.equal(meta.provenance?.sourceSha256, createHash('sha256').update(ws.modelBytes).digest('hex'));
  assert.equal(meta.drift?.samples, 12);
  assert.ok((meta.drift?.inputs.length ?? 0) > 0 && (meta.drift?.outputs.length ?? 0) > 0, 'drift reference without features');

  for (let trial = 0; trial < 2; trial++) {
    const x = freshInput();
    const float = await ortRun(ws.modelBytes, x);
    const ortQdq = await ortRun(qdq, x);
    for (const ep of ['js', 'wasm', 'webgpu'] as const) {
      const { y } = await kilnRun(kiln, x, ep);
      // onnxruntime runs this QDQ model with integer kernels (QLinearConv, QLinearMatMul); Kiln
      // dequantizes and accumulates in f32. They agree except where a value sits within f32
      // rounding of a quantization boundary: then one step of that activation's scale propagates.
      summary.push(`int8 ${ep}: vs onnxruntime QDQ ${maxDiff(y, ortQdq).toExponential(2)}, vs float ${maxDiff(y, float).toExponential(2)}`);
      assert.ok(maxDiff(y, ortQdq) < 0.02, `${ep} vs onnxruntime on the QDQ model: ${maxDiff(y, ortQdq)}`);
      assert.ok(maxDiff(y, float) < 0.1, `${ep} quantized vs float: ${maxDiff(y, float)}`);
    }
  }
  // The class is kept where the float model's choice is clear. This random model's top-2 softmax
  // margin is often a near-tie (median 0.046 over 1000 draws, under 0.01 in 19%; a third of random
  // models never exceed 0.05), where int8's ~2e-3 error flips argmax by chance. So: 20 fresh
  // inputs, and every one whose float margin is at least 0.05 (25x the measured int8 error; the
  // 0.1 bound on Kiln vs float above would still allow a flip there) must keep its class.
  let clear = 0;
  for (let i = 0; i < 20; i++) {
    const x = freshInput();
    const float = await ortRun(ws.modelBytes, x);
    const [top, second] = [...float].sort((a, b) => b - a);
    if (top! - second! < 0.05) continue;
    clear++;
    assert.equal(argmax(await ortRun(qdq, x)), argmax(float), `int8 changed the predicted class (float margin ${top! - second!})`);
  }
  summary.push(`int8: ${clear} of 20 inputs had a clear float class (margin >= 0.05); all kept it`);
});

test('int4 weights with --keep: the kept layer stays float, blocks only where a layer has enough inputs', async () => {
  const ws = tinyWorkspace(6);
  const o = options(ws, { bits: 4, keep: ['c1'], sensitivitySamples: 0 });
  const r = await compressModel(o);
  assert.equal(r.quantized, 3);
  assert.deepEqual(Object.fromEntries(weightTypes(new Uint8Array(readFileSync(o.onnxOut!)))), { c1: 'float32', c2: 'int4', mm: 'int8', fc: 'int4' });
  assert.match(r.schemes.find((s) => s.layer === 'mm')!.scheme, /too few inputs/);
  const kiln = new Uint8Array(readFileSync(o.out));
  const qdq = new Uint8Array(readFileSync(o.onnxOut!));
  for (let trial = 0; trial < 1; trial++) {
    const x = freshInput();
    const ortQdq = await ortRun(qdq, x);
    const float = await ortRun(ws.modelBytes, x);
    for (const ep of ['js', 'wasm', 'webgpu'] as const) {
      const { y } = await kilnRun(kiln, x, ep);
      // weight-only: float activations, so only f32 summation order differs
      summary.push(`int4 ${ep}: vs onnxruntime QDQ ${maxDiff(y, ortQdq).toExponential(2)}, vs float ${maxDiff(y, float).toExponential(2)}`);
      assert.ok(maxDiff(y, ortQdq) < 1e-4, `${ep} vs onnxruntime on the int4 model: ${maxDiff(y, ortQdq)}`);
    }
    assert.ok(maxDiff(ortQdq, float) < 0.2, `int4 vs float: ${maxDiff(ortQdq, float)}`);
  }
});

export type { AnyTensor };
