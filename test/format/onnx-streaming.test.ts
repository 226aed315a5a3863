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
import { OnnxStreamReader, readOnnxModelWithExternalData, readOnnxStream } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { OnnxStreamOutcome, StreamedNode } from '../../runtime/format/onnx/onnx-stream.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng } from '../helpers/random.ts';
import { layeredMlp, quantizedModel } from './kiln-fixture.ts';

const rng = testRng(import.meta.url);
const noExternal = (loc: string): Promise<Uint8Array> => Promise.reject(new KilnError('INVALID_MODEL', `no external data '${loc}' in this test`));

interface Streamed {
  model?: Model;
  error?: { code: string; message: string };
  outcome?: OnnxStreamOutcome;
  nodes: StreamedNode[];
  told: Map<string, AnyTensor>;
}

/** Feeds `bytes` in chunks of `chunk` bytes (or sizes drawn from `sizes`), then reads the stream. */
async function streamed(bytes: Uint8Array, chunk: number | (() => number), total = bytes.length): Promise<Streamed> {
  const told = new Map<string, AnyTensor>();
  const nodes: StreamedNode[] = [];
  const reader = new OnnxStreamReader(total, { onNode: (n) => void nodes.push(n), onInitializer: (name, t) => void told.set(name, t) });
  for (let at = 0; at < bytes.length;) {
    const n = typeof chunk === 'number' ? chunk : chunk();
    reader.write(bytes.subarray(at, at + n));
    at += n;
  }
  assert.ok(Buffer.from(reader.bytes()).equals(bytes), 'the reader keeps every byte (hashed and cached by the loader)');
  try {
    const { model, outcome } = await readOnnxStream(reader, noExternal);
    return { model, outcome, nodes, told };
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    return { error: { code: e.code, message: e.message }, nodes, told };
  }
}

async function whole(bytes: Uint8Array): Promise<{ model?: Model; error?: { code: string; message: string } }> {
  try {
    return { model: await readOnnxModelWithExternalData(bytes, noExternal) };
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
  assert.deepEqual(s.nodes.map((n) => n.opType), graph.nodes.map((n) => n.opType), `${what}: every node told`);
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

test('an order the stream reader does not follow falls back to the whole buffer and says why', async () => {
  // Two ModelProtos back to back are one message with the graph field twice (the decoder keeps the last).
  const twice = new Uint8Array(small.length + mlp.length);
  twice.set(small);
  twice.set(mlp, small.length);
  const s = await assertSameAsWhole(twice, 4096, 'two graph fields');
  assert.ok(s.model, 'still a model');
  assert.deepEqual(s.outcome, { streamed: false, reason: 'the model holds two graph fields' });
  // A group (wire type 3) in the model's fields: skipped by the decoder, not followed by the stream reader.
  const group = new Uint8Array([(15 << 3) | 3, (13 << 3) | 0, 1, (15 << 3) | 4]); // field 15, unknown to ModelProto
  const withGroup = new Uint8Array(group.length + small.length);
  withGroup.set(group);
  withGroup.set(small, group.length);
  const g = await assertSameAsWhole(withGroup, 4096, 'a group');
  assert.ok(g.model && g.outcome?.streamed === false && /wire type 3/.test(g.outcome.reason), JSON.stringify(g.outcome));
});

test('an unknown or wrong Content-Length only sizes the buffer', async () => {
  for (const total of [0, 10, small.length * 3]) {
    const reader = new OnnxStreamReader(total);
    for (let at = 0; at < small.length; at += 100) reader.write(small.subarray(at, at + 100));
    const { model, outcome } = await readOnnxStream(reader, noExternal);
    assert.deepEqual(outcome, { streamed: true });
    assert.deepEqual(model, (await whole(small)).model, `total ${total}`);
  }
});
