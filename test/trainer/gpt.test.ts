// `kiln train --arch gpt`: the exported decoder (float, int8, int4) gives TF.js's logits on
// onnxruntime-web and on every Kiln backend; decoding one token at a time with the past fed back
// gives the full sequence's logits; a short training run writes the .kiln/.onnx/report and the
// held-out loss through Kiln equals TF.js's; bad options are usage errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { parseGptArgs } from '../../trainer-node/cli/commands/train-gpt.ts';
import { CliUsageError } from '../../trainer-node/cli/command.ts';
import { loadSonnets } from '../../trainer-node/data/sonnets.ts';
import { gptToOnnx, pastName, presentName } from '../../trainer-node/export/gpt-onnx.ts';
import { assignGptSchemes, buildGpt, disposeGpt, gptForward, type GptConfig } from '../../trainer-node/train/gpt/gpt-model.ts';
import { runGptTraining, schemeFor } from '../../trainer-node/train/gpt/gpt-pipeline.ts';
import { initTf } from '../../trainer-node/train/tf-backend.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;
const rng = testRng(import.meta.url);
const config: GptConfig = { vocabSize: 13, dModel: 16, heads: 2, layers: 2, maxPositions: 32 };
const dh = config.dModel / config.heads;
const T = 9;
const PREFILL = 4;

const i64 = (v: readonly number[], dims: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims);

/** The decoder's feeds for tokens[from, from + n) with `past` (length from) per layer. */
function feeds(tokens: readonly number[], from: number, n: number, past: Readonly<Record<string, AnyTensor>>): Record<string, AnyTensor> {
  const f: Record<string, AnyTensor> = {
    input_ids: i64(tokens.slice(from, from + n), [1, n]),
    attention_mask: i64(new Array<number>(from + n).fill(1), [1, from + n]),
    position_ids: i64(Array.from({ length: n }, (_, i) => from + i), [1, n]),
  };
  for (let l = 0; l < config.layers; l++) for (const kv of ['key', 'value'] as const) f[pastName(l, kv)] = past[pastName(l, kv)] ?? new Tensor('float32', new Float32Array(0), [1, config.heads, 0, dh]);
  return f;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[offset + i]!));
  return m;
}

describe('the exported GPT decoder', () => {
  for (const bits of [32, 8, 4] as const) {
    test(`int${bits}: onnxruntime-web and every Kiln backend give TF.js's logits; one-token decoding equals the full sequence (seed ${rng.seed})`, async () => {
      await initTf();
      const g = buildGpt(config, rng.int(1 << 30));
      const scheme = schemeFor(bits, config.dModel);
      if (scheme) assignGptSchemes(g, scheme);
      const tokens = Array.from({ length: T }, () => rng.int(config.vocabSize));
      const want = tf.tidy(() => gptForward(g, tf.tensor2d(tokens, [1, T], 'int32'), tf.tensor2d([...Array(T).keys()], [1, T], 'int32')).dataSync());
      const bytes = encodeOnnxModel(gptToOnnx(g, { quantized: scheme !== undefined }));
      disposeGpt(g);

      const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      const ortFeeds = Object.fromEntries(Object.entries(feeds(tokens, 0, T, {})).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims])]));
      const ortLogits = (await theirs.run(ortFeeds)).logits!.data as Float32Array;
      await theirs.release();
      assert.ok(maxDiff(ortLogits, want) < 1e-4, `onnxruntime-web vs TF.js: ${maxDiff(ortLogits, want)}`);

      for (const provider of ['js', 'wasm', 'webgpu'] as const) {
        const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
        try {
          const full = (await s.run(feeds(tokens, 0, T, {}))).logits!.data as Float32Array;
          assert.ok(maxDiff(full, want) < 1e-4, `${provider} vs TF.js: ${maxDiff(full, want)}`);
          // prefill, then one token per run with present fed back as past
          let r = await s.run(feeds(tokens, 0, PREFILL, {}));
          for (let p = PREFILL; p < T; p++) {
            const past: Record<string, AnyTensor> = {};
            for (let l = 0; l < config.layers; l++) for (const kv of ['key', 'value'] as const) past[pastName(l, kv)] = r[presentName(l, kv)]!;
            assert.deepEqual(past[pastName(0, 'key')]!.dims, [1, config.heads, p, dh]);
            r = await s.run(feeds(tokens, p, 1, past));
            const step = r.logits!.data as Float32Array;
            const d = maxDiff(step, want, p * config.vocabSize);
            assert.ok(d < 1e-4, `${provider}: decoding position ${p} differs from the full sequence by ${d}`);
          }
        } finally {
          await s.release();
        }
      }
    });
  }
});

test(`a right-aligned cache window with empty slots masked by attention_mask (generate()'s window) decodes TF.js's logits (seed ${rng.seed})`, async () => {
  await initTf();
  const g = buildGpt(config, rng.int(1 << 30));
  const tokens = Array.from({ length: T }, () => rng.int(config.vocabSize));
  const want = tf.tidy(() => gptForward(g, tf.tensor2d(tokens, [1, T], 'int32'), tf.tensor2d([...Array(T).keys()], [1, T], 'int32')).dataSync());
  const bytes = encodeOnnxModel(gptToOnnx(g, { quantized: false }));
  disposeGpt(g);
  const W = T; // window slots: more than any past here, so early steps have empty slots on the left
  for (const provider of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const full = await s.run(feeds(tokens, 0, T, {}));
      for (let p = 1; p < T; p++) {
        // past: the first p keys/values of the full run, right-aligned in W slots, zeros before them
        const f: Record<string, AnyTensor> = {
          input_ids: i64([tokens[p]!], [1, 1]),
          attention_mask: i64([...new Array<number>(W - p).fill(0), ...new Array<number>(p + 1).fill(1)], [1, W + 1]),
          position_ids: i64([p], [1, 1]),
        };
        for (let l = 0; l < config.layers; l++) {
          for (const kv of ['key', 'value'] as const) {
            const present = full[presentName(l, kv)]!.data as Float32Array;
            const window = new Float32Array(config.heads * W * dh);
            for (let h = 0; h < config.heads; h++) window.set(present.subarray(h * T * dh, h * T * dh + p * dh), (h * W + W - p) * dh);
            f[pastName(l, kv)] = new Tensor('float32', window, [1, config.heads, W, dh]);
          }
        }
        const step = (await s.run(f)).logits!.data as Float32Array;
        const d = maxDiff(step, want, p * config.vocabSize);
        assert.ok(d < 1e-4, `${provider}: position ${p} through a right-aligned window differs from the full sequence by ${d}`);
      }
    } finally {
      await s.release();
    }
  }
});

describe('kiln train --arch gpt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-gpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a short int4 run writes the bundle, the ONNX and the report; Kiln measures the held-out loss TF.js does', async () => {
    const corpus = await loadSonnets();
    const out = join(dir, 'tiny.kiln');
    const r = await runGptTraining({
      corpus, bits: 4, dModel: 32, heads: 2, layers: 1, maxPositions: 64, window: 32, steps: 24, batchSize: 8, learningRate: 1e-2,
      seed: 7, out, entropyCoding: true, commandLine: 'test', prompt: 'Shall I', sampleTokens: 8,
    });
    assert.deepEqual(r.files.sort(), [join(dir, 'tiny.kiln'), join(dir, 'tiny.onnx'), join(dir, 'tiny.report.json')].sort());
    const report = JSON.parse(readFileSync(join(dir, 'tiny.report.json'), 'utf8')) as typeof r.report;
    assert.equal(report.vocabSize, corpus.vocab.length);
    assert.deepEqual(report.steps, { float: 16, qat: 8 });
    // a seeded run: the same numbers every time; 24 steps take the loss well below uniform (log2 61 = 5.93 bits)
    assert.ok(report.trainBitsPerChar.last < report.trainBitsPerChar.first - 1, JSON.stringify(report.trainBitsPerChar));
    assert.ok(Math.abs(report.testBitsPerChar.kiln - report.testBitsPerChar.tfjs) < 1e-3, JSON.stringify(report.testBitsPerChar));
    assert.equal([...report.sample.text].length, 8);
    assert.ok([...report.sample.text].every((c) => corpus.vocab.includes(c)));
    assert.ok(report.bytes.kiln < report.bytes.floatOnnx / 3, `int4 bundle ${report.bytes.kiln} bytes vs float ONNX ${report.bytes.floatOnnx}`);
    // the bundle runs as a model with its vocabulary as output labels
    const s = await InferenceSession.create(r.kiln, { executionProviders: ['wasm'] });
    assert.deepEqual(s.bundle?.outputs?.[0]?.labels, corpus.vocab);
    assert.deepEqual(s.inputNames.slice(0, 3), ['input_ids', 'attention_mask', 'position_ids']);
    await s.release();
  });

  test('bad options are usage errors', () => {
    const usage = (argv: string[], re: RegExp): void => assert.throws(() => parseGptArgs(['--arch', 'gpt', ...argv]), (e: unknown) => e instanceof CliUsageError && re.test(e.message));
    usage(['--dataset', 'mnist'], /sonnets/);
    usage(['--bits', '2'], /--bits/);
    usage(['--d-model', '30', '--heads', '4'], /multiple of --heads/);
    usage(['--context', '128', '--max-positions', '64'], /--max-positions/);
    usage(['--out', 'x.onnx'], /\.kiln/);
    usage(['--epochs', '3'], /Unknown option|unknown option/i);
    assert.equal(parseGptArgs(['--arch', 'gpt']).steps, 600);
  });
});
