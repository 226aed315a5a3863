// `kiln inspect` through the dispatcher, on real bundles written here: quantization per layer,
// parameter and byte counts (recomputed from the model independently), metadata, signature status
// with keys in the usual file formats, damaged sections, ONNX input, and usage errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import type { ModelReport } from '../../runtime/format/kiln/model-report.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { main } from '../../trainer-node/cli/kiln.ts';
import { bundleSpec, ed25519Pair, quantizedModel } from './kiln-fixture.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-'));
const path = (name: string): string => join(dir, name);
let model: WriterModel;
/** the signing key's id as keyIdOf documents it, computed here with node:crypto */
let keyId: string;

before(async () => {
  model = quantizedModel();
  const keys = await ed25519Pair();
  const signed = await encodeKilnBundle(model, bundleSpec(), { signingKey: keys.privateKey, entropyCoding: true, sectionBytes: 512 });
  writeFileSync(path('model.kiln'), signed);
  writeFileSync(path('model.onnx'), encodeOnnxModel(model));
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
  writeFileSync(path('key.raw'), raw);
  keyId = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  writeFileSync(path('unsigned.kiln'), await encodeKilnBundle(model, bundleSpec()));
  writeFileSync(path('key.hex'), `${Buffer.from(raw).toString('hex')}\n`);
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey)).toString('base64');
  writeFileSync(path('key.pem'), `-----BEGIN PUBLIC KEY-----\n${spki}\n-----END PUBLIC KEY-----\n`);
  const other = await ed25519Pair();
  writeFileSync(path('other.raw'), new Uint8Array(await crypto.subtle.exportKey('raw', other.publicKey)));
  const { header } = await readKilnBundle(signed);
  const damaged = signed.slice();
  damaged[signed.length - header.dataLength + header.sections[1]!.offset + 2]! ^= 0x80;
  writeFileSync(path('damaged.kiln'), damaged);
  writeFileSync(path('garbage.bin'), Uint8Array.from({ length: 300 }, () => Math.floor(rng.uniform() * 256)));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Parameters and stored bytes recomputed from the WriterModel itself. */
function expectedCounts(m: WriterModel): { parameters: number; bytes: Record<string, number> } {
  const tensors: AnyTensor[] = [...Object.values(m.initializers as Record<string, AnyTensor>)];
  for (const n of m.nodes) if (n.opType === 'Constant') tensors.push(n.attrs!.value as AnyTensor);
  const bytes: Record<string, number> = {};
  let parameters = 0;
  for (const t of tensors) {
    parameters += t.size;
    bytes[t.type] = (bytes[t.type] ?? 0) + (t.type.endsWith('int4') ? Math.ceil(t.size / 2) : (t.data as Uint8Array).byteLength);
  }
  return { parameters, bytes };
}

test('kiln inspect prints layers, quantization, metadata and a valid signature', async () => {
  for (const key of ['key.raw', 'key.hex', 'key.pem']) {
    const r = await kiln('inspect', path('model.kiln'), '--public-key', path(key));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\.kiln v1\.0/);
    assert.match(r.out, new RegExp(`signature: valid \\(Ed25519, key ${keyId}\\)`));
    assert.match(r.out, /all SHA-256 ok/);
  }
  const { out } = await kiln('inspect', path('model.kiln'));
  assert.match(out, /conv1: int8 per-channel axis 0 \(w_q\)/);
  assert.match(out, /fc1: int4 block 16 \(m_q\)/);
  assert.match(out, /ops: Add 2, DequantizeLinear 2, Cast 1, Constant 1, Conv 1, LeakyRelu 1, MatMul 1, Relu 1, Reshape 1/);
  assert.match(out, /output spec: y logits, 16 labels: class 0, class 1/);
  assert.match(out, /drift reference: 100 samples from 'test'; inputs x\.c0; outputs y\.argmax/);
  assert.match(out, /provenance: tool=kiln test/);
  assert.match(out, /metrics: accuracyFloat=0\.99, accuracyQuantized=0\.985/);
  assert.match(out, /signature: present, not checked/);
  assert.match(out, /deflate-raw/);
});

test('kiln inspect --json counts parameters and bytes by dtype as the model does', async () => {
  const r = await kiln('inspect', path('model.kiln'), '--json', `--public-key=${path('key.raw')}`);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as ModelReport;
  const want = expectedCounts(model);
  assert.equal(report.parameters, want.parameters);
  assert.deepEqual(Object.fromEntries(Object.entries(report.bytesByDtype).sort()), Object.fromEntries(Object.entries(want.bytes).sort()));
  assert.equal(report.signature, 'valid');
  assert.equal(report.keyId, keyId);
  assert.equal(report.ops.DequantizeLinear, 2);
  assert.deepEqual(report.quantization.map((q) => `${q.layer}:${q.scheme}`), ['conv1:int8 per-channel axis 0', 'fc1:int4 block 16']);
  assert.ok(report.sections!.every((s) => s.hashOk));
  // The ONNX of the same model gives the same graph facts, and no signature.
  const onnx = JSON.parse((await kiln('inspect', path('model.onnx'), '--json')).out) as ModelReport;
  assert.equal(onnx.format, 'onnx');
  assert.equal(onnx.signature, 'none');
  for (const k of ['parameters', 'bytesByDtype', 'ops', 'quantization', 'inputs', 'outputs'] as const) assert.deepEqual(onnx[k], report[k], k);
});

test('kiln inspect --public-key exits 1 for an unsigned bundle or an ONNX model, so CI can gate on it', async () => {
  const plain = await kiln('inspect', path('unsigned.kiln'));
  assert.equal(plain.code, 0, 'without a key an unsigned bundle is fine');
  assert.match(plain.out, /signature: none/);
  for (const file of ['unsigned.kiln', 'model.onnx']) {
    const r = await kiln('inspect', path(file), '--public-key', path('key.raw'));
    assert.equal(r.code, 1, file);
    assert.match(r.out, /signature: MISSING: the file is unsigned, and --public-key requires a signature/, file);
    const json = JSON.parse((await kiln('inspect', path(file), '--json', '--public-key', path('key.hex'))).out) as ModelReport;
    assert.equal(json.signature, 'missing', file);
  }
});

test('kiln inspect flags a wrong key and a damaged section (exit 1) and rejects bad usage (exit 2)', async () => {
  const wrong = await kiln('inspect', path('model.kiln'), '--public-key', path('other.raw'));
  assert.equal(wrong.code, 1);
  assert.match(wrong.out, /signature: INVALID/);
  const damaged = await kiln('inspect', path('damaged.kiln'));
  assert.equal(damaged.code, 1);
  assert.match(damaged.out, /SHA-256 MISMATCH in section 1\b/);
  assert.match(damaged.out, /problem: \[INTEGRITY\] .*section 1 failed/);
  assert.match(damaged.out, /conv1|DequantizeLinear/, 'the graph is still described from the header');
  const garbage = await kiln('inspect', path('garbage.bin'));
  assert.equal(garbage.code, 1);
  assert.match(garbage.err, /INVALID_MODEL/);
  const missing = await kiln('inspect', path('nope.kiln'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read model .*ENOENT/);
  const badKey = await kiln('inspect', path('model.kiln'), '--public-key', path('model.onnx'));
  assert.equal(badKey.code, 1);
  assert.match(badKey.err, /not an Ed25519 public key/);
  assert.equal((await kiln('inspect')).code, 2);
  assert.equal((await kiln('inspect', path('model.kiln'), '--bogus')).code, 2);
  assert.equal((await kiln('inspect', path('model.kiln'), '--public-key')).code, 2);
  assert.equal((await kiln('inspect', 'a', 'b')).code, 2);
});
