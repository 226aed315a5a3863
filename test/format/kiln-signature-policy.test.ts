// The signature rule: a public key given means a signature is required (allowUnsigned opts out),
// several keys may be given (rotation), and the session says whether and by which key the model
// was verified. importKilnPublicKey is exported by every entry that docs/format.md names it for.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import * as nodeEntry from '../../runtime/node.ts';
import * as indexEntry from '../../runtime/index.ts';
import * as browserEntry from '../../runtime/worker/browser-entry.ts';
import * as scriptTagEntry from '../../runtime/worker/iife-entry.ts';
import { bundleSpec, ed25519Pair, quantizedModel } from './kiln-fixture.ts';

const { InferenceSession } = nodeEntry;
let unsigned: Uint8Array;
let signed: Uint8Array;
let onnx: Uint8Array;
let keys: CryptoKeyPair;
let other: CryptoKeyPair;
/** keyIdOf as documented (first 16 hex digits of the raw key's SHA-256), computed with node:crypto */
let keyId: string;

before(async () => {
  keys = await ed25519Pair();
  other = await ed25519Pair();
  const model = quantizedModel();
  unsigned = await encodeKilnBundle(model, bundleSpec());
  signed = await encodeKilnBundle(model, bundleSpec(), { signingKey: keys.privateKey });
  onnx = encodeOnnxModel(model);
  keyId = createHash('sha256').update(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey))).digest('hex').slice(0, 16);
});

const integrity = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof KilnError, String(e));
  assert.equal(e.code, 'INTEGRITY', e.message);
  assert.match(e.message, pattern);
  return true;
};

test('a publicKey alone requires a signature: unsigned bundles and ONNX are refused', async () => {
  await assert.rejects(readKilnBundle(unsigned, { publicKey: keys.publicKey }), integrity(/not signed.*allowUnsigned/));
  await assert.rejects(InferenceSession.create(unsigned, { executionProviders: ['cpu'], publicKey: keys.publicKey }), integrity(/not signed/));
  await assert.rejects(InferenceSession.create(onnx, { executionProviders: ['cpu'], publicKey: keys.publicKey }), integrity(/ONNX/));
});

test('allowUnsigned opts out, but a signed bundle must still verify', async () => {
  assert.equal((await readKilnBundle(unsigned, { publicKey: keys.publicKey, allowUnsigned: true })).signature, 'none');
  await assert.rejects(readKilnBundle(signed, { publicKey: other.publicKey, allowUnsigned: true }), integrity(/signature does not match/));
  const s = await InferenceSession.create(onnx, { executionProviders: ['cpu'], publicKey: keys.publicKey, allowUnsigned: true });
  assert.deepEqual(s.verification, { verified: false });
  await s.release();
  await assert.rejects(readKilnBundle(signed, { publicKey: keys.publicKey, requireSignature: true, allowUnsigned: true }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
  // An empty key list (keys that failed to load) must not quietly mean "no signature needed".
  await assert.rejects(readKilnBundle(unsigned, { publicKey: [] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /empty list/.test(e.message));
  await assert.rejects(InferenceSession.create(onnx, { executionProviders: ['cpu'], publicKey: [] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
});

test('the session says whether and by which key the model was verified', async () => {
  const verified = await InferenceSession.create(signed, { executionProviders: ['cpu'], publicKey: keys.publicKey });
  assert.deepEqual(verified.verification, { verified: true, keyId });
  await verified.release();
  const noKey = await InferenceSession.create(signed, { executionProviders: ['cpu'] });
  assert.deepEqual(noKey.verification, { verified: false }, 'signed but nothing to check it against');
  await noKey.release();
  const plain = await InferenceSession.create(unsigned, { executionProviders: ['cpu'] });
  assert.deepEqual(plain.verification, { verified: false });
  await plain.release();
});

test('several keys (rotation): the one that verifies is named; none verifying is INTEGRITY', async () => {
  const b = await readKilnBundle(signed, { publicKey: [other.publicKey, keys.publicKey] });
  assert.equal(b.signature, 'valid');
  assert.equal(b.keyId, keyId);
  await assert.rejects(readKilnBundle(signed, { publicKey: [other.publicKey] }), integrity(/signature does not match/));
});

test('importKilnPublicKey is exported by the Node, ESM, browser and script-tag entries and verifies', async () => {
  for (const [name, entry] of [['node', nodeEntry], ['index', indexEntry], ['browser', browserEntry], ['script tag', scriptTagEntry]] as const) {
    assert.equal(typeof entry.importKilnPublicKey, 'function', `${name} entry`);
  }
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
  const imported = await nodeEntry.importKilnPublicKey(raw);
  const b = await readKilnBundle(signed, { publicKey: imported });
  assert.equal(b.signature, 'valid');
  assert.equal(b.keyId, keyId);
});
