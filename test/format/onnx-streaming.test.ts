// The ONNX stream reader (runtime/format/onnx/onnx-stream.ts) against the whole-buffer reader: fed
// in chunks of any size it gives the same model (the initializers it built during the download are
// the objects the model holds), and for every truncation point and for corrupted bytes it ends in
// the same outcome as reading the bytes whole (the same model, or the same KilnError code and message).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import type { Model } from '../../runtime/graph/ir.ts';
import { OnnxStreamReader, readOnnx } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { OnnxStreamOutcome } from '../../runtime/format/onnx/onnx-stream.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng } from '../helpers/random.ts';
import { layeredMlp, quantizedModel } from './kiln-fixture.ts';

const rng = testRng(import.meta.url);
const noExternal = (loc: string): Promise<Uint8Array> => Promise.reject(new KilnError('INVALID_MODEL', `no external data '${loc}' in this test`));

interface Streamed {
  model?: Model;
  error?: { code: string; message: string };
  outcome?: OnnxStreamOutcome;
  told: Map<string, AnyTensor>;
}

/** Feeds `bytes` in chunks of `chunk` bytes (or sizes drawn from `sizes`), then reads the stream. */
async function streamed(bytes: Uint8Array, chunk: number | (() => number), total = bytes.length): Promise<Streamed> {
  const told = new Map<string, AnyTensor>();
  const reader = new OnnxStreamReader(total, { onInitializer: (name, t) => void told.set(name, t) });
  for (let at = 0; at < bytes.length;) {
    const n = typeof chunk === 'number' ? chunk : chunk();
    reader.write(bytes.subarray(at, at + n));
    at += n;
  }
  assert.ok(Buffer.from(reader.bytes()).equals(bytes), 'the reader keeps every byte (hashed and cached by the loader)');
  try {
    const { model, outcome } = await readOnnx(reader, noExternal);
    return { model, outcome, told };
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    return { error: { code: e.code, message: e.message }, told };
  }
}

async function whole(bytes: Uint8Array): Promise<{ model?: Model; error?: { code: string; message: string } }> {
  try {
    return { model: (await readOnnx(bytes, noExternal)).model };
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    return { error: { code: e.code, message: e.message } };
  }
}

/** The same model, or the same typed error. */
async function assertSameAsWhole(bytes: Uint8Array, chunk: number | (() => number), what: string): Promise<Streamed> {
  const [s, w] = [await streamed(bytes, chunk), await whole(bytes)];
  assert.deepEqual(s.error, w.error, `${what}: the same error as the whole-buffer reader`);
  assert.deepEqual(s.model, w.model, `${what}: the same model as the whole-buffer reader`);
  return s;
}

const cls = new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx')));
const small = new Uint8Array(encodeOnnxModel(quantizedModel()));
const mlp = new Uint8Array(encodeOnnxModel(layeredMlp()));

/** Each weight the stream told of is the very tensor the model holds (an initializer or a Constant's value). */
function assertToldWeights(s: Streamed, what: string): void {
  const graph = s.model!.graph;
  const constants = new Map(graph.nodes.filter((n) => n.opType === 'Constant').map((n) => [n.outputs[0]!, n.attrs.tensor('value')]));
  assert.equal(s.told.size, graph.initializers.size + [...constants.values()].filter((t) => t !== undefined).length, `${what}: every weight told`);
  for (const [n, t] of s.told) assert.equal(graph.initializers.get(n) ?? constants.get(n), t, `${what}: '${n}' is the tensor built during the download`);
}

test('fed in chunks of any size, a streamed model is the model read whole, with its weights told as they completed', async () => {
  const cases: [string, Uint8Array, (number | (() => number))[]][] = [
    ['PaddleOCR cls (weights in Constant nodes)', cls, [7, 65536, () => 1 + rng.int(3000)]],
    ['quantized fixture', small, [1, 7, 4096, small.length, () => 1 + rng.int(300)]],
    ['layered MLP', mlp, [1, 100, 4096, () => 1 + rng.int(3000)]],
  ];
  for (const [name, bytes, chunks] of cases) {
    for (const chunk of chunks) {
      const what = `${name}, chunks of ${typeof chunk === 'number' ? chunk : 'random size'}`;
      const s = await assertSameAsWhole(bytes, chunk, what);
      assert.deepEqual(s.outcome, { streamed: true }, what);
      assert.ok(s.told.size > 0, `${what}: weights told`);
      assertToldWeights(s, what);
    }
  }
});

test('a stream cut at every byte ends as the whole-buffer reader ends on the same bytes', async () => {
  for (let cut = 0; cut < small.length; cut++) {
    const s = await assertSameAsWhole(small.subarray(0, cut), 5, `cut at ${cut} of ${small.length}`);
    if (s.model) assert.deepEqual(s.outcome, { streamed: true }, `cut at ${cut}: read while streaming`);
    else assert.equal(s.outcome, undefined);
  }
  // The real model at 40 cut points (each a whole read of up to 579 KB).
  for (let i = 0; i < 40; i++) {
    const cut = rng.int(cls.length);
    await assertSameAsWhole(cls.subarray(0, cut), 8192, `PaddleOCR cls cut at ${cut}`);
  }
});

test('corrupted bytes end as the whole-buffer reader ends on them', async () => {
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    const bytes = small.slice();
    for (let k = 0, n = 1 + rng.int(3); k < n; k++) bytes[rng.int(bytes.length)] = rng.int(256);
    const s = await assertSameAsWhole(bytes, 1 + rng.int(64), `corruption ${i}`);
    if (s.error) failed++;
  }
  assert.ok(failed > 25, `the corruptions reached the error paths (${failed} of 300 rejected)`);
});

test('fields in any order are followed; bytes the stream reader cannot follow are read whole, and it says where it stopped', async () => {
  // Two ModelProtos back to back are one message with the graph field twice (the decoder keeps the last).
  const twice = new Uint8Array(small.length + mlp.length);
  twice.set(small);
  twice.set(mlp, small.length);
  const s = await assertSameAsWhole(twice, 4096, 'two graph fields');
  assert.ok(s.model, 'still a model');
  assert.deepEqual(s.outcome, { streamed: true });
  // A group (wire type 3) among the model's fields: skipped as the decoder skips it.
  const group = new Uint8Array([(15 << 3) | 3, (13 << 3) | 0, 1, (15 << 3) | 4]); // field 15, unknown to ModelProto
  const withGroup = new Uint8Array(group.length + small.length);
  withGroup.set(group);
  withGroup.set(small, group.length);
  const g = await assertSameAsWhole(withGroup, 3, 'a group');
  assert.ok(g.model);
  assert.deepEqual(g.outcome, { streamed: true });
  // A graph whose declared length ends inside its last field: read whole, and refused as before.
  const short = small.slice();
  const at = short.indexOf((7 << 3) | 2); // ModelProto.graph's tag; its length follows (2 bytes here)
  assert.ok(short[at + 1]! >= 0x80 && short[at + 2]! < 0x80, 'a 2-byte length');
  short[at + 1]! -= 1;
  const o = await assertSameAsWhole(short, 64, 'a graph one byte short');
  assert.equal(o.error?.code, 'INVALID_MODEL');
  const reader = new OnnxStreamReader(short.length);
  reader.write(short);
  assert.match(reader.end().outcome.streamed ? '' : (reader.end().outcome as { reason: string }).reason, /^byte \d+: overruns the graph$/);
});

test('an unknown or wrong Content-Length only sizes the buffer', async () => {
  for (const total of [0, 10, small.length * 3]) {
    const reader = new OnnxStreamReader(total);
    for (let at = 0; at < small.length; at += 100) reader.write(small.subarray(at, at + 100));
    const { model, outcome } = await readOnnx(reader, noExternal);
    assert.deepEqual(outcome, { streamed: true });
    assert.deepEqual(model, (await whole(small)).model, `total ${total}`);
  }
});
