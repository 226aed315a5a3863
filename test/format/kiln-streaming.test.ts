// Streaming .kiln loads: the header is parsed and checked as soon as it arrives, each section is
// verified the moment its last byte lands, tensors live in one buffer the size of the file, and a
// session on an http URL fails early (before the rest downloads) on unsupported ops, a bad
// signature or a corrupt section, and otherwise runs exactly like the ONNX of the same model.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { KilnStreamReader, readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { PREAMBLE_BYTES, alignUp } from '../../runtime/format/kiln/kiln-layout.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError } from '../../runtime/node.ts';
import { startCountingServer, type CountingServer } from '../browser/helpers/counting-server.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { ed25519Pair, layeredMlp } from './kiln-fixture.ts';
import { storedHeaderLength } from './kiln-surgery.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const dataStartOf = (b: Uint8Array): number => {
  const v = new DataView(b.buffer, b.byteOffset);
  return alignUp(PREAMBLE_BYTES + storedHeaderLength(b) + v.getUint32(12, true));
};

test('the stream reader checks the header first and verifies each section as soon as it is complete', async () => {
  const bytes = await encodeKilnBundle(layeredMlp(), {}, { sectionBytes: 64 << 10 });
  const events: string[] = [];
  let fed = 0;
  const reader = new KilnStreamReader({}, {
    onHeader: (h) => events.push(`header@${fed}:${h.sections.length}`),
    onSection: (i) => events.push(`section${i}@${fed}`),
  });
  // Odd chunk sizes, so boundaries never line up with sections.
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(rng.uniform() * 40000));
    fed = at + n;
    await reader.write(bytes.subarray(at, at + n));
    at += n;
  }
  const bundle = await reader.end();
  const dataStart = dataStartOf(bytes);
  const header = bundle.header;
  assert.ok(header.sections.length >= 8, `${header.sections.length} sections`);
  const [first, ...sections] = events;
  assert.match(first!, /^header@/);
  assert.ok(Number(first!.split('@')[1]!.split(':')[0]) < dataStart + header.sections[0]!.byteLength, 'the header is ready before the first section');
  sections.forEach((e, i) => {
    const s = header.sections[i]!;
    const at = Number(e.split('@')[1]);
    assert.equal(e.split('@')[0], `section${i}`);
    assert.ok(at >= dataStart + s.offset + s.byteLength, `section ${i} not before its last byte`);
    assert.ok(at < dataStart + s.offset + s.byteLength + 40000, `section ${i} soon after its last byte`);
  });
  // One copy: every uncompressed tensor is a view into the reader's single, file-sized buffer.
  assert.equal(reader.bytes.buffer.byteLength, bytes.length);
  for (const t of bundle.model.graph.initializers.values()) assert.equal((t.data as Float32Array).buffer, reader.bytes.buffer);
});

const dir = mkdtempSync(join(tmpdir(), 'kiln-stream-'));
let server: CountingServer | undefined;
const model = layeredMlp();
let keys: CryptoKeyPair;

before(async () => {
  keys = await ed25519Pair();
  const signed = await encodeKilnBundle(model, { metadata: { name: 'mlp' } }, { sectionBytes: 64 << 10, signingKey: keys.privateKey });
  writeFileSync(join(dir, 'mlp.bin'), signed); // no .kiln extension: detected by magic
  const corrupt = signed.slice();
  const s3 = dataStartOf(signed) + (await readKilnBundle(signed)).header.sections[3]!.offset;
  corrupt[s3 + 10]! ^= 0x40;
  writeFileSync(join(dir, 'corrupt.kiln'), corrupt);
  writeFileSync(join(dir, 'unsupported.kiln'), await encodeKilnBundle(layeredMlp('NoSuchOp'), {}, { sectionBytes: 64 << 10 }));
  server = await startCountingServer({ mounts: { '/slow/': dir }, cors: true, slow: /^\/slow\// });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const feeds = (): { x: AnyTensor } => ({ x: randomTensor({ dtype: 'float32', dims: [2, 128] }) });

test('webgpu: a signed .kiln URL streams with progress, verifies, and runs like the ONNX', async () => {
  const progress: [number, number][] = [];
  const url = `${server!.url}/slow/mlp.bin`;
  // Every verified weight is handed to the device as its section arrives (how many of them land
  // before the download ends depends on how fast the device starts, so that is not asserted).
  const proto = WebGpuBackend.prototype;
  const preload = proto.preload;
  const preloaded = new Set<string>();
  proto.preload = function (this: WebGpuBackend, t, name) {
    preloaded.add(name);
    preload.call(this, t, name);
  };
  const s = await InferenceSession.create(url, { executionProviders: ['webgpu'], publicKey: keys.publicKey, requireSignature: true, onProgress: (l, t) => progress.push([l, t]) }).finally(() => (proto.preload = preload));
  assert.deepEqual([...preloaded].sort(), Object.keys(model.initializers as object).sort());
  const ref = await InferenceSession.create(encodeOnnxModel(model), { executionProviders: ['webgpu'] });
  try {
    assert.deepEqual(s.bundle, { metadata: { name: 'mlp' } });
    const total = progress.at(-1)![1];
    assert.ok(total > 650_000 && progress.at(-1)![0] === total && progress.length > 5, 'streamed in pieces');
    const x = feeds();
    assert.deepEqual(Array.from((await s.run(x)).y!.data as Float32Array), Array.from((await ref.run(x)).y!.data as Float32Array));
  } finally {
    await s.release();
    await ref.release();
  }
});

test('a streamed load stops early on unsupported ops, a corrupt section or a wrong key', async () => {
  const stoppedEarly = async (path: string, options: Parameters<typeof InferenceSession.create>[1], check: (e: KilnError) => boolean): Promise<void> => {
    let last: [number, number] = [0, 0];
    await assert.rejects(InferenceSession.create(`${server!.url}/slow/${path}`, { executionProviders: ['cpu'], ...options, onProgress: (l, t) => (last = [l, t]) }), (e: unknown) => e instanceof KilnError && check(e));
    assert.ok(last[0] < last[1], `${path}: stopped at ${last[0]} of ${last[1]} bytes`);
  };
  await stoppedEarly('unsupported.kiln', {}, (e) => e.code === 'UNSUPPORTED_OPS' && e.message.includes('NoSuchOp'));
  await stoppedEarly('corrupt.kiln', {}, (e) => e.code === 'INTEGRITY' && /section 3\b/.test(e.message) && e.details?.section === 3);
  const other = await ed25519Pair();
  await stoppedEarly('mlp.bin', { publicKey: other.publicKey }, (e) => e.code === 'INTEGRITY' && /signature/.test(e.message));
});

test('aborting a streamed .kiln load rejects with the signal reason and gives the early backend back', async () => {
  const controller = new AbortController();
  const proto = WebGpuBackend.prototype;
  const release = proto.release;
  let released = 0;
  proto.release = function (this: WebGpuBackend) {
    released++;
    release.call(this);
  };
  let started = false;
  try {
    const load = InferenceSession.create(`${server!.url}/slow/mlp.bin`, {
      executionProviders: ['webgpu'],
      signal: controller.signal,
      // Abort once a few sections are in: the backend was started from the header by then.
      onProgress: (loaded) => {
        if (loaded >= 200_000 && !started) {
          started = true;
          controller.abort();
        }
      },
    });
    await assert.rejects(load, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  } finally {
    proto.release = release;
  }
  assert.ok(started);
  assert.equal(released, 1, 'the backend started during the download was released');
});
