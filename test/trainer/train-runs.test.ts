// Whole `kiln train` runs on small data: the same seed gives the same bytes, an interrupted run
// leaves nothing behind, pruning reaches its sparsity and shrinks the bundle.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { loadImageFolder } from '../../trainer-node/data/image-folder.ts';
import { loadIris } from '../../trainer-node/data/iris.ts';
import { loadMnist } from '../../trainer-node/data/mnist.ts';
import { runTraining } from '../../trainer-node/train/pipeline.ts';
import { twoFourMask } from '../../trainer-node/train/prune.ts';
import { kilnLogits } from '../../trainer-node/export/evaluate.ts';
import { initTf } from '../../trainer-node/train/tf-backend.ts';
import { repoRoot } from '../helpers/paths.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const dir = mkdtempSync(join(tmpdir(), 'kiln-train-runs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the same seed gives identical .kiln and ONNX bytes; another seed does not', async () => {
  process.env.SOURCE_DATE_EPOCH = '1764000000';
  const run = async (seed: number, name: string) =>
    runTraining({ dataset: loadIris(seed), arch: 'mlp', bits: 8, distill: false, seed, epochs: 6, out: join(dir, name, 'model.kiln'), commandLine: 'test', progress: false });
  const a = await run(11, 'a');
  const b = await run(11, 'b');
  const c = await run(12, 'c');
  delete process.env.SOURCE_DATE_EPOCH;
  assert.ok(a.kiln.length > 0 && Buffer.from(a.kiln).equals(Buffer.from(b.kiln)), 'same seed, same .kiln bytes');
  assert.ok(Buffer.from(a.onnx).equals(Buffer.from(b.onnx)), 'same seed, same ONNX bytes');
  assert.ok(!Buffer.from(a.onnx).equals(Buffer.from(c.onnx)), 'another seed, other weights');
});

test('SIGINT during training: exit 130, no bundle and no temporary file left', async () => {
  const out = join(dir, 'interrupted');
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'trainer-node/cli/kiln.ts'), 'train', '--dataset', 'iris', '--epochs', '100000', '--out', join(out, 'model.kiln')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // the first finished epoch proves training is under way: interrupt it
      if (/float epoch/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 130, stderr.slice(-500));
  assert.match(stderr, /interrupted by SIGINT; no bundle written/);
  let left: string[];
  try {
    left = readdirSync(out);
  } catch {
    left = [];
  }
  assert.deepEqual(left, []);
});

test('2:4 masks keep exactly 2 of every 4 weights along the reduction axis', async () => {
  await initTf();
  const w = tf.randomNormal([3, 3, 8, 5]);
  const m = twoFourMask(w).dataSync();
  for (let tap = 0; tap < 9; tap++) for (let g = 0; g < 8; g += 4) for (let co = 0; co < 5; co++) {
    let kept = 0;
    for (let j = 0; j < 4; j++) kept += m[(tap * 8 + g + j) * 5 + co]!;
    assert.equal(kept, 2, `tap ${tap}, group ${g}, column ${co}`);
  }
  w.dispose();
});

test('gradual magnitude pruning reaches its sparsity and entropy coding makes the bundle smaller', async () => {
  const mnist = loadMnist();
  const common = { dataset: mnist, arch: 'mlp' as const, bits: 8 as const, distill: false, seed: 3, epochs: 2, trainLimit: 512, testLimit: 100, driftSamples: 100, commandLine: 'test', progress: false as const };
  const dense = await runTraining({ ...common, out: join(dir, 'dense.kiln') });
  const pruned = await runTraining({ ...common, prune: { kind: 'magnitude', sparsity: 0.6 }, distill: true, out: join(dir, 'pruned.kiln') });
  // Every layer of >= 1000 weights is pruned to 60%; the last (256 x 10... here 128 x 10) is not.
  const prunable = pruned.report.layers.filter((l) => l.shape.reduce((a, b) => a * b, 1) >= 1000);
  const total = pruned.report.layers.reduce((s, l) => s + l.shape.reduce((a, b) => a * b, 1), 0);
  const expected = (0.6 * prunable.reduce((s, l) => s + l.shape.reduce((a, b) => a * b, 1), 0)) / total;
  assert.ok(Math.abs(pruned.report.sparsity - expected) < 0.01, `sparsity ${pruned.report.sparsity}, expected about ${expected}`);
  assert.ok(pruned.report.bytes.kiln < 0.8 * dense.report.bytes.kiln, `pruned bundle ${pruned.report.bytes.kiln} B vs ${dense.report.bytes.kiln} B unpruned`);
  assert.ok(pruned.report.distill);
});

test('the TF.js export (model.json + weights.bin) loads with tf.loadLayersModel and computes what Kiln computes on the ONNX', async () => {
  const iris = loadIris(5);
  const tfjsDir = join(dir, 'tfjs');
  const r = await runTraining({ dataset: iris, arch: 'mlp', bits: 32, distill: false, seed: 5, epochs: 5, out: join(dir, 'float', 'model.kiln'), tfjsDir, commandLine: 'test', progress: false });
  const json = JSON.parse(readFileSync(join(tfjsDir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = new Uint8Array(readFileSync(join(tfjsDir, 'weights.bin')));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
  const fromTf = tf.tidy(() => (model.predict(tf.tensor2d(iris.test.x, [iris.test.n, 4])) as tf.Tensor).dataSync());
  model.dispose();
  const fromKiln = await kilnLogits(r.onnx, iris, iris.test);
  assert.equal(fromTf.length, fromKiln.length);
  for (let i = 0; i < fromKiln.length; i++) assert.ok(Math.abs(fromTf[i]! - fromKiln[i]!) <= 1e-4 * (1 + Math.abs(fromKiln[i]!)), `logit ${i}: TF.js ${fromTf[i]} vs Kiln ${fromKiln[i]}`);

  // The same folder serves as a given float teacher for a distilled int8 student.
  const student = await runTraining({ dataset: iris, arch: 'mlp', bits: 8, distill: true, teacherDir: tfjsDir, seed: 5, epochs: 3, out: join(dir, 'student', 'model.kiln'), commandLine: 'test', progress: false });
  assert.ok(student.report.distill && student.report.accuracy.quantizedKiln > 0);
  await assert.rejects(
    runTraining({ dataset: loadMnist(), arch: 'mlp', bits: 8, distill: true, teacherDir: tfjsDir, seed: 5, epochs: 1, trainLimit: 64, testLimit: 10, out: join(dir, 'bad', 'model.kiln'), commandLine: 'test', progress: false }),
    /teacher .* maps \[4\] to \[3\]; the data needs \[28,28,1\] to \[10\]/,
  );
  assert.deepEqual(readdirSync(dir).includes('bad') ? readdirSync(join(dir, 'bad')) : [], []);
});

test('an RGB image folder trains a CNN whose NCHW export (Transpose before Flatten) computes what TF.js computed', async () => {
  const images = join(dir, 'rgb');
  ['reddish', 'bluish'].forEach((c, ci) => {
    mkdirSync(join(images, c), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const p = new PNG({ width: 8, height: 6 });
      for (let k = 0; k < 48; k++) {
        p.data[k * 4] = ci === 0 ? 150 + rng.uniform() * 100 : rng.uniform() * 100;
        p.data[k * 4 + 1] = rng.uniform() * 255;
        p.data[k * 4 + 2] = ci === 1 ? 150 + rng.uniform() * 100 : rng.uniform() * 100;
        p.data[k * 4 + 3] = 255;
      }
      writeFileSync(join(images, c, `${i}.png`), PNG.sync.write(p));
    }
  });
  const data = loadImageFolder(images, 1);
  assert.deepEqual(data.sampleShape, [6, 8, 3]);
  const r = await runTraining({ dataset: data, arch: 'cnn', bits: 8, distill: false, seed: 1, epochs: 2, batchSize: 8, out: join(dir, 'rgb-out', 'model.kiln'), commandLine: 'test', progress: false });
  const fromKiln = await kilnLogits(r.kiln, data, data.test);
  for (let i = 0; i < fromKiln.length; i++) assert.ok(Math.abs(fromKiln[i]! - r.tfjsTestLogits[i]!) <= 1e-3 * (1 + Math.abs(fromKiln[i]!)), `logit ${i}: Kiln ${fromKiln[i]} vs TF.js ${r.tfjsTestLogits[i]}`);
});
