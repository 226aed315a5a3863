// Every way a .kiln file can be wrong gives a typed KilnError naming the part: wrong magic or
// version, truncation, bad offsets, overlaps, malformed or oversized headers, unknown dtypes,
// hash and signature failures, and a tensor table that disagrees with the graph.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { readKilnBundle, type KilnReadOptions } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { MAX_HEADER_BYTES } from '../../runtime/format/kiln/kiln-layout.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { bundleSpec, ed25519Pair, quantizedModel } from './kiln-fixture.ts';
import { joinKiln, splitKiln, withHeader } from './kiln-surgery.ts';

let good: Uint8Array;
let packed: Uint8Array;
let signed: Uint8Array;
let keys: CryptoKeyPair;

before(async () => {
  keys = await ed25519Pair();
  good = await encodeKilnBundle(quantizedModel(), bundleSpec(), { sectionBytes: 64 });
  packed = await encodeKilnBundle(quantizedModel(64), bundleSpec(64), { entropyCoding: true });
  signed = await encodeKilnBundle(quantizedModel(), bundleSpec(), { signingKey: keys.privateKey, sectionBytes: 64 });
});

async function rejects(bytes: Uint8Array, code: string, pattern: RegExp, options: KilnReadOptions = {}): Promise<KilnError> {
  let caught: unknown;
  await readKilnBundle(bytes, options).then(() => assert.fail(`accepted; expected ${code} ${pattern}`), (e: unknown) => (caught = e));
  assert.ok(caught instanceof KilnError, `untyped error: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

test('wrong magic, newer major version, odd preamble fields', async () => {
  const b = good.slice();
  b[0] = 0x50; // 'P'
  await rejects(b, 'INVALID_MODEL', /wrong magic/);
  const parts = splitKiln(good);
  const e = await rejects(joinKiln({ ...parts, major: 2, minor: 3 }), 'INVALID_MODEL', /version 2\.3.*version 1\.x/);
  assert.deepEqual(e.details, { fileVersion: '2.3', readerVersion: '1' });
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(8, MAX_HEADER_BYTES + 1, true);
  await rejects(huge, 'INVALID_MODEL', /header claims .* limit/);
  const sig = good.slice();
  new DataView(sig.buffer).setUint32(12, 12, true);
  await rejects(sig, 'INVALID_MODEL', /signature length 12/);
});

test('a newer minor version with unknown header fields still reads', async () => {
  const parts = splitKiln(good);
  const b = joinKiln({ ...parts, minor: 7, header: { ...parts.header, futureField: { x: 1 }, tensors: (parts.header.tensors as object[]).map((t) => ({ ...t, futureNote: 'y' })) } });
  const read = await readKilnBundle(b);
  assert.deepEqual(read.version, { major: 1, minor: 7 });
  assert.equal(read.model.graph.initializers.size, 9);
});

test('truncated anywhere: in the preamble, the header, or a section (named)', async () => {
  await rejects(good.subarray(0, 3), 'INVALID_MODEL', /truncated/);
  await rejects(good.subarray(0, 10), 'INVALID_MODEL', /truncated/);
  await rejects(good.subarray(0, 100), 'INVALID_MODEL', /truncated inside its header/);
  const { header } = await readKilnBundle(good);
  const dataStart = good.length - header.dataLength;
  const s2 = header.sections[2]!;
  const e = await rejects(good.subarray(0, dataStart + s2.offset + 5), 'INVALID_MODEL', /truncated: section 2 of/);
  assert.equal(e.details?.section, 2);
  await rejects(good.subarray(0, good.length - 1), 'INVALID_MODEL', /has \d+ bytes, its header describes|truncated/);
  const longer = new Uint8Array(good.length + 64);
  longer.set(good);
  await rejects(longer, 'INVALID_MODEL', /longer than/);
});

test('malformed header JSON', async () => {
  const parts = splitKiln(good);
  await rejects(joinKiln(parts, '{"graph": '), 'INVALID_MODEL', /not valid UTF-8 JSON/);
  await rejects(joinKiln(parts, '[1,2,3]'), 'INVALID_MODEL', /not a JSON object/);
  const bad = new TextDecoder('latin1').decode(Uint8Array.of(0x7b, 0xff, 0x7d));
  await rejects(joinKiln(parts, bad), 'INVALID_MODEL', /JSON/);
  await rejects(withHeader(good, (h) => delete (h as Record<string, unknown>).tensors), 'INVALID_MODEL', /no 'tensors'/);
  await rejects(withHeader(good, (h) => (h.graph.nodes[1]!.opType = 7)), 'INVALID_MODEL', /node #1\.opType: must be a string/);
  await rejects(withHeader(good, (h) => (h.graph.nodes[1]!.attrs = { pads: { ints: [1], f: 2 } })), 'INVALID_MODEL', /exactly one of/);
  await rejects(withHeader(good, (h) => (h.graph.nodes[1]!.attrs = { pads: { t: 999 } })), 'INVALID_MODEL', /tensor #999 is not an attribute tensor/);
});

test('offsets outside the file, misaligned or overlapping sections and tensors, wrong lengths, unknown dtypes', async () => {
  await rejects(withHeader(good, (h) => (h.sections[1]!.offset = 1 << 30)), 'INVALID_MODEL', /section 1 .* outside the data area/);
  await rejects(withHeader(good, (h) => (h.sections[1]!.offset = (h.sections[1]!.offset as number) + 8)), 'INVALID_MODEL', /section 1 offset \d+ is not 64-byte aligned/);
  await rejects(withHeader(good, (h) => (h.sections[2]!.offset = h.sections[1]!.offset)), 'INVALID_MODEL', /section 2 .* overlaps section 1/);
  await rejects(withHeader(good, (h) => (h.sections[0]!.offset = -64)), 'INVALID_MODEL', /section 0 offset must be a non-negative integer/);
  await rejects(withHeader(good, (h) => (h.dataLength = 1e300)), 'INVALID_MODEL', /dataLength must be a non-negative integer/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.offset = 64000)), 'INVALID_MODEL', /tensor 'w_q' .* outside section 0/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.offset = 3)), 'INVALID_MODEL', /tensor 'w_q' offset 3 is not 64-byte aligned/);
  await rejects(withHeader(good, (h) => Object.assign(h.tensors[1]!, { section: 0, offset: 0 })), 'INVALID_MODEL', /tensors '(w_q|w_scale)' and '(w_q|w_scale)' overlap in section 0/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.byteLength = 100)), 'INVALID_MODEL', /tensor 'w_q' has 100 bytes; int8\[4, 3, 3, 3\] needs 108/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.dtype = 'bfloat16')), 'INVALID_MODEL', /unknown dtype "bfloat16"/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.section = 99)), 'INVALID_MODEL', /names section 99/);
  await rejects(withHeader(good, (h) => (h.tensors[0]!.dims = [4, 3, 3, 2 ** 52])), 'INVALID_MODEL', /too many elements|needs/);
  await rejects(withHeader(good, (h) => (h.sections[0]!.encoding = 'zstd')), 'INVALID_MODEL', /unknown encoding "zstd"/);
  await rejects(withHeader(good, (h) => (h.tensors[1]!.name = 'w_q')), 'INVALID_MODEL', /'w_q' appears twice/);
});

test('a tensor table that disagrees with the graph', async () => {
  await rejects(withHeader(good, (h) => (h.tensors[0]!.name = 'w_renamed')), 'INVALID_MODEL', /node 'dq_w' reads 'w_q', which is not/);
  await rejects(withHeader(good, (h) => (h.tensors[3]!.name = 'c')), 'INVALID_MODEL', /tensor 'c' .* node outputs also write it/);
  // The cast writes a dtype the header type does not allow: the point of the case.
  await rejects(withHeader(good, (h) => ((h.graph as unknown as { inputs: { dtype: string }[] }).inputs[0]!.dtype = 'complex64')), 'INVALID_MODEL', /unknown dtype "complex64"/);
});

test('a section whose bytes do not match its SHA-256 fails with INTEGRITY naming the section', async () => {
  const { header } = await readKilnBundle(good);
  const b = good.slice();
  const at = good.length - header.dataLength + header.sections[4]!.offset + 1;
  b[at]! ^= 1;
  const e = await rejects(b, 'INTEGRITY', /section 4 failed its SHA-256 check/);
  assert.equal(e.details?.section, 4);
  // Hash fixed up by a forger, but the deflate stream is now garbage: still typed.
  const p = splitKiln(packed);
  const h = p.header as { sections: { encoding: string; offset: number; byteLength: number; sha256: string }[] };
  const s = h.sections.findIndex((x) => x.encoding === 'deflate-raw');
  assert.ok(s >= 0);
  const sec = h.sections[s]!;
  p.data.fill(0xff, sec.offset, sec.offset + Math.min(32, sec.byteLength));
  sec.sha256 = await sha256Hex(p.data.subarray(sec.offset, sec.offset + sec.byteLength));
  await rejects(joinKiln(p), 'INVALID_MODEL', new RegExp(`section ${s} (is not valid deflate-raw|decodes to)`));
  // A decompression bomb claim beyond deflate's ratio is refused from the header alone.
  await rejects(withHeader(packed, (hh) => (hh.sections[s]!.rawLength = 1e12)), 'INVALID_MODEL', /claims \d+ decoded bytes/);
});

test('signatures: valid, tampered header, tampered data, wrong key, missing but required, ONNX when required', async () => {
  assert.equal((await readKilnBundle(signed, { publicKey: keys.publicKey, requireSignature: true })).signature, 'valid');
  const tamperedHeader = withHeader(signed, (h) => ((h.spec as { metadata: { name: string } }).metadata.name = 'evil'));
  await rejects(tamperedHeader, 'INTEGRITY', /signature does not match/, { publicKey: keys.publicKey });
  const tamperedData = signed.slice();
  tamperedData[tamperedData.length - 70]! ^= 0x10;
  await rejects(tamperedData, 'INTEGRITY', /SHA-256/, { publicKey: keys.publicKey });
  await rejects(signed, 'INTEGRITY', /signature does not match/, { publicKey: (await ed25519Pair()).publicKey });
  await rejects(good, 'INTEGRITY', /not signed, and a signature is required/, { publicKey: keys.publicKey, requireSignature: true });
  const stripped = splitKiln(signed);
  await rejects(joinKiln({ ...stripped, signature: new Uint8Array(0) }), 'INTEGRITY', /not signed/, { publicKey: keys.publicKey, requireSignature: true });
  await rejects(signed, 'INVALID_ARGUMENT', /requireSignature needs a publicKey/, { requireSignature: true });
  await assert.rejects(
    InferenceSession.create(encodeOnnxModel(quantizedModel()), { executionProviders: ['cpu'], publicKey: keys.publicKey, requireSignature: true }),
    (e: unknown) => e instanceof KilnError && e.code === 'INTEGRITY' && /ONNX/.test(e.message),
  );
  await assert.rejects(
    InferenceSession.create(tamperedHeader, { executionProviders: ['cpu'], publicKey: keys.publicKey }),
    (e: unknown) => e instanceof KilnError && e.code === 'INTEGRITY',
  );
});
