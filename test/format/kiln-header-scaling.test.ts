// A forged .kiln header with very many tensors must not stall the loader: the signature is checked
// over the raw header bytes before its JSON is parsed (so requireSignature turns such a file away
// after one verify), and reading the header and its sections is linear in the number of tensors.
// Work is counted with V8's precise block coverage (how often each function and block of the .kiln
// reader ran), never with a clock.
import assert from 'node:assert/strict';
import { Session } from 'node:inspector/promises';
import { after, before, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { KilnError } from '../../core/errors.ts';
import { HEADER_DEFLATED, KILN_MAGIC, PREAMBLE_BYTES, alignUp } from '../../runtime/format/kiln/kiln-layout.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { ed25519Pair } from './kiln-fixture.ts';

/** SHA-256 of zero bytes: every forged section is empty, so its hash checks out. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * `tensors` empty int8 tensors spread over `sections` empty sections (tensor i in section
 * i mod sections), the header stored deflated as the writer does: a small, valid file (200k
 * tensors: ~1 MB). `breakLast` makes the last tensor invalid; `signature` fills the signature slot;
 * `nodes` Identity nodes read the first tensors.
 */
function forged(tensors: number, sections: number, breakLast = false, signature = new Uint8Array(0), nodes = 0): Uint8Array {
  const header = {
    // Every node has the same name, so the reader's de-duplication runs for each one.
    graph: { nodes: Array.from({ length: nodes }, (_, i) => ({ name: 'n', opType: 'Identity', inputs: [`t${i}`], outputs: [`o${i}`] })), inputs: [], outputs: [] },
    opsets: { '': 21 },
    tensors: Array.from({ length: tensors }, (_, i) => ({ name: `t${i}`, dtype: breakLast && i === tensors - 1 ? 'int99' : 'int8', dims: [0], section: i % sections, offset: 0, byteLength: 0 })),
    sections: Array.from({ length: sections }, () => ({ offset: 0, byteLength: 0, rawLength: 0, encoding: 'none', sha256: EMPTY_SHA256 })),
    dataLength: 0,
    spec: {},
  };
  const stored = deflateRawSync(JSON.stringify(header));
  const out = new Uint8Array(alignUp(PREAMBLE_BYTES + stored.length + signature.length));
  out.set(KILN_MAGIC);
  const view = new DataView(out.buffer);
  view.setUint16(4, 1, true);
  view.setUint32(8, (stored.length | HEADER_DEFLATED) >>> 0, true);
  view.setUint32(12, signature.length, true);
  out.set(stored, PREAMBLE_BYTES);
  out.set(signature, PREAMBLE_BYTES + stored.length);
  return out;
}

const inspector = new Session();
before(async () => {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
});
after(async () => {
  await inspector.post('Profiler.stopPreciseCoverage');
  inspector.disconnect();
});

/** Block executions in the .kiln reader's files (runtime/format/kiln/) while `f` runs. */
async function countedWork(f: () => Promise<unknown>): Promise<number> {
  await inspector.post('Profiler.takePreciseCoverage'); // resets the counters
  await f();
  const { result } = await inspector.post('Profiler.takePreciseCoverage');
  let total = 0;
  for (const script of result) {
    if (!script.url.includes('/runtime/format/kiln/')) continue;
    for (const fn of script.functions) for (const r of fn.ranges) total += r.count;
  }
  return total;
}

test('requireSignature rejects an unsigned 200k-tensor header before parsing it', async () => {
  const keys = await ed25519Pair();
  // The last tensor is invalid: had the JSON been parsed first, the error would be INVALID_MODEL.
  const bytes = forged(200_000, 1, true);
  console.log(`# forged header: ${bytes.length} bytes, 200000 tensors`);
  let caught: unknown;
  const work = await countedWork(() => readKilnBundle(bytes, { publicKey: keys.publicKey, requireSignature: true }).catch((e: unknown) => (caught = e)));
  assert.ok(caught instanceof KilnError, String(caught));
  assert.equal(caught.code, 'INTEGRITY', caught.message);
  assert.match(caught.message, /not signed, and a signature is required/);
  // The reader did a fixed amount of work, nothing per tensor (parsing would be over a million blocks).
  console.log(`# reader block executions while refusing it: ${work}`);
  assert.ok(work < 2_000, `the reader ran ${work} blocks for a file it should refuse up front`);
  // A publicKey alone now implies the requirement (same outcome, same cheap rejection).
  await assert.rejects(readKilnBundle(bytes, { publicKey: keys.publicKey }), (e: unknown) => e instanceof KilnError && e.code === 'INTEGRITY');
  // Without a key the same table (minus the broken entry) is a readable bundle: the refusal above
  // came from the signature rule, not from a header the reader could not take anyway.
  assert.equal((await readKilnBundle(forged(200_000, 1))).model.graph.initializers.size, 200_000);
});

test('a signed-looking header that does not verify is refused before parsing too', async () => {
  const keys = await ed25519Pair();
  const bytes = forged(200_000, 1, true, new Uint8Array(64).fill(7));
  let caught: unknown;
  const work = await countedWork(() => readKilnBundle(bytes, { publicKey: keys.publicKey }).catch((e: unknown) => (caught = e)));
  assert.ok(caught instanceof KilnError && caught.code === 'INTEGRITY' && /signature does not match/.test(caught.message), String(caught));
  assert.ok(work < 2_000, `the reader ran ${work} blocks`);
});

test('reading a header is linear in its tensors, sections and nodes (doubling them doubles the work)', async () => {
  // Before: each section scanned the whole tensor table, so this work grew 4x per doubling.
  const sizes = [2_000, 4_000, 8_000];
  const work: number[] = [];
  for (const n of sizes) {
    const bytes = forged(n, n, false, new Uint8Array(0), n);
    const count = await countedWork(async () => {
      const b = await readKilnBundle(bytes);
      assert.equal(b.model.graph.initializers.size, n);
      assert.equal(b.model.graph.nodes.length, n);
    });
    work.push(count);
  }
  console.log(`# reader block executions for ${sizes.join(' / ')} tensors, sections and nodes: ${work.join(' / ')}`);
  for (let i = 1; i < work.length; i++) {
    const ratio = work[i]! / work[i - 1]!;
    assert.ok(ratio > 1.5 && ratio < 2.5, `doubling the table multiplied the work by ${ratio.toFixed(2)} (linear: ~2, quadratic: ~4)`);
  }
});
