// `kiln compress` without --calib on a BERT-like model (token ids, segment ids, attention mask):
// synthetic calibration must give each integer input values the graph accepts (ids below the rows
// of the embedding table they index, segment ids 0, masks of ones), and refuse an integer input it
// cannot bound with a message naming --calib. The model is written with the project's ONNX writer.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { syntheticCalibration } from '../../trainer-node/compress/calibration-data.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';

const VOCAB = 3; // a tiny vocabulary: random ids in [0, 4) used to fall outside it
const HIDDEN = 8;
const weights = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 0.5);
const f32 = (data: Float32Array, dims: number[]): AnyTensor => new Tensor('float32', data, dims);

/** Embeddings (word: VOCAB rows, token type: 2 rows, the ids reach it through a Cast) masked and projected. */
function tinyBert(extraInput = false): WriterModel {
  const initializers: Record<string, AnyTensor> = {
    word_emb: f32(weights(VOCAB * HIDDEN, 1), [VOCAB, HIDDEN]),
    type_emb: f32(weights(2 * HIDDEN, 2), [2, HIDDEN]),
    axes: new Tensor('int64', [2n], [1]),
    proj_w: f32(weights(HIDDEN * HIDDEN, 3), [HIDDEN, HIDDEN]),
    proj_b: f32(weights(HIDDEN, 4), [HIDDEN]),
  };
  const ids = (name: string) => ({ name, dtype: 'int64' as const, dims: ['batch', 'sequence'] });
  const nodes: WriterModel['nodes'][number][] = [
    { name: 'word', opType: 'Gather', inputs: ['word_emb', 'input_ids'], outputs: ['we'] },
    { name: 'tt_cast', opType: 'Cast', inputs: ['token_type_ids'], outputs: ['tt32'], attrs: { to: 6 } },
    { name: 'type', opType: 'Gather', inputs: ['type_emb', 'tt32'], outputs: ['te'] },
    { name: 'emb', opType: 'Add', inputs: ['we', 'te'], outputs: ['e'] },
    { name: 'mask_f', opType: 'Cast', inputs: ['attention_mask'], outputs: ['mf'], attrs: { to: 1 } },
    { name: 'mask_3d', opType: 'Unsqueeze', inputs: ['mf', 'axes'], outputs: ['m3'] },
    { name: 'masked', opType: 'Mul', inputs: ['e', 'm3'], outputs: ['h'] },
    { name: 'proj', opType: 'MatMul', inputs: ['h', 'proj_w'], outputs: ['p'] },
    { name: 'proj_add', opType: 'Add', inputs: ['p', 'proj_b'], outputs: ['y'] },
  ];
  const inputs = [ids('input_ids'), ids('token_type_ids'), ids('attention_mask')];
  if (extraInput) {
    inputs.push(ids('bucket'));
    nodes.push({ name: 'bucket_f', opType: 'Cast', inputs: ['bucket'], outputs: ['bf'], attrs: { to: 1 } });
  }
  return { opsets: { '': 13 }, inputs, outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 'sequence', HIDDEN] }], initializers, nodes };
}

test('synthetic integer inputs stay inside the tables they index; masks are ones, segment ids 0', () => {
  const set = syntheticCalibration(tinyBert(), 4, 16);
  console.log(`# ${set.origin}`);
  assert.match(set.origin, /input_ids: ids in \[0, 3\); token_type_ids: zeros \(segment ids\); attention_mask: ones \(attention mask\)/);
  for (const feed of set.samples) {
    const ids = Array.from(feed.input_ids!.data as BigInt64Array, Number);
    assert.equal(ids.length, 16);
    assert.ok(ids.every((v) => v >= 0 && v < VOCAB), `ids ${ids.join(',')}`);
    assert.ok(Array.from(feed.token_type_ids!.data as BigInt64Array).every((v) => v === 0n));
    assert.ok(Array.from(feed.attention_mask!.data as BigInt64Array).every((v) => v === 1n));
  }
});

test('kiln compress without --calib quantizes the BERT-like model, and the result runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bert-'));
  writeFileSync(join(dir, 'bert.onnx'), encodeOnnxModel(tinyBert()));
  const warnings: string[] = [];
  const result = await compressModel({
    input: join(dir, 'bert.onnx'), bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [],
    out: join(dir, 'bert.kiln'), samples: 4, sensitivitySamples: 0, freeDim: 6, commandLine: 'kiln compress (test)',
    warn: (m: string) => void warnings.push(m),
  });
  assert.equal(result.calibration.synthetic, true);
  assert.ok(warnings.some((w) => /SYNTHETIC/.test(w)));
  assert.equal(result.quantized, 1, 'the projection MatMul');
  const seq = (v: bigint[]) => new Tensor('int64', v, [1, v.length]);
  const feed = { input_ids: seq([2n, 0n, 1n]), token_type_ids: seq([0n, 1n, 1n]), attention_mask: seq([1n, 1n, 0n]) };
  const float = await InferenceSession.create(join(dir, 'bert.onnx'), { executionProviders: ['cpu'] });
  const want = Array.from((await float.run(feed)).y!.data as Float32Array);
  await float.release();
  const s = await InferenceSession.create(join(dir, 'bert.kiln'), { executionProviders: ['cpu'] });
  const got = (await s.run(feed)).y!;
  assert.deepEqual([...got.dims], [1, 3, HIDDEN]);
  // int8 weights and activations over ranges of about +-2: a few steps of 2/127 at most.
  const worst = Math.max(...Array.from(got.data as Float32Array, (v, i) => Math.abs(v - want[i]!)));
  console.log(`# quantized vs float: max |diff| ${worst.toExponential(2)}`);
  assert.ok(worst < 0.1, `max |diff| ${worst}`);
  await s.release();
});

test('an integer input Kiln cannot bound is refused with a message naming --calib', () => {
  assert.throws(() => syntheticCalibration(tinyBert(true), 2, 4), (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, /input 'bucket'.*pass --calib DIR with bucket\.npy/);
    return true;
  });
});
