// The exported model is the trained model: a short QAT run on MNIST rows, then the TF.js
// fake-quantized network, Kiln's runtime on the .kiln and onnxruntime-web (wasm) on the ONNX must
// give the same logits and predictions on the test rows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { loadMnist } from '../../trainer-node/data/mnist.ts';
import { kilnLogits } from '../../trainer-node/export/evaluate.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../../trainer-node/export/onnx-graph.ts';
import { runTraining } from '../../trainer-node/train/pipeline.ts';

ort.env.wasm.numThreads = 1;
const dir = mkdtempSync(join(tmpdir(), 'kiln-train-parity-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const mnist = loadMnist();
const summary: string[] = [];
after(() => console.log(summary.join('\n')));

function compare(name: string, got: Float32Array, want: Float32Array, classes: number): void {
  assert.equal(got.length, want.length, `${name}: length`);
  let worst = 0;
  let scale = 0;
  let agree = 0;
  const rows = want.length / classes;
  for (let r = 0; r < rows; r++) {
    let a = 0;
    let b = 0;
    for (let c = 0; c < classes; c++) {
      const i = r * classes + c;
      worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
      if (got[i]! > got[r * classes + a]!) a = c;
      if (want[i]! > want[r * classes + b]!) b = c;
    }
    if (a === b) agree++;
  }
  summary.push(`${name}: max |diff| ${worst.toExponential(2)} (logit scale ${scale.toFixed(2)}), predictions agree on ${agree}/${rows}`);
  // Float summation order differs between runtimes, and a value that lands on a rounding tie of an
  // activation QuantizeLinear can move by one step; logits stay within a few steps of each other.
  assert.ok(worst <= 0.02 * scale + 1e-4, `${name}: max |diff| ${worst} over logits up to ${scale}`);
  assert.ok(agree >= rows - 1, `${name}: predictions agree on ${agree}/${rows}`);
}

for (const bits of [8, 4] as const) {
  test(`int${bits} CNN: TF.js fake-quant == Kiln on the .kiln == onnxruntime-web on the ONNX`, async () => {
    const out = join(dir, `cnn-int${bits}.kiln`);
    const result = await runTraining({
      dataset: mnist, arch: 'cnn', bits, distill: false, seed: 7, epochs: 2, batchSize: 64, trainLimit: 128, testLimit: 100,
      driftSamples: 128, out, commandLine: 'test', progress: false,
    });
    const classes = 10;
    const test = { x: mnist.test.x.subarray(0, 100 * 784), y: mnist.test.y.subarray(0, 100), n: 100 };
    const fromKiln = await kilnLogits(result.kiln, mnist, test);
    const session = await ort.InferenceSession.create(result.onnx, { executionProviders: ['wasm'] });
    const ortOut = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', Float32Array.from(test.x), [100, 1, 28, 28]) });
    await session.release();
    const fromOrt = ortOut[OUTPUT_NAME]!.data as Float32Array;
    compare(`int${bits} Kiln .kiln vs TF.js`, fromKiln, result.tfjsTestLogits, classes);
    compare(`int${bits} onnxruntime-web ONNX vs Kiln .kiln`, fromOrt, fromKiln, classes);
    // The bundle stores packed integer weights behind DequantizeLinear and the spec a page needs.
    const bundle = await readKilnBundle(result.kiln);
    const dtypes = new Set(bundle.header.tensors.map((t) => t.dtype));
    assert.ok(dtypes.has(bits === 8 ? 'int8' : 'int4'), `int${bits} weights in the bundle: ${[...dtypes]}`);
    const floatWeights = bundle.header.tensors.filter((t) => t.name.endsWith('.weight')).map((t) => t.name);
    assert.deepEqual(floatWeights, [], 'every weight is stored as integers');
    assert.deepEqual(bundle.spec.inputs?.[0]?.preprocessing, { kind: 'affine', scale: 1 / 255, offset: 0, rawRange: [0, 255] });
    assert.deepEqual(bundle.spec.outputs?.[0]?.labels, mnist.classes);
    assert.equal(bundle.spec.metadata?.drift?.samples, 128);
    assert.equal(bundle.spec.metadata?.metrics?.accuracyQuantized, result.report.accuracy.quantizedKiln);
  });
}
