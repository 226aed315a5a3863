// An ONNX model's shapes read ahead of its weights by Range requests (runtime/format/onnx/onnx-early.ts):
// served at a fixed rate on 127.0.0.1 with and without Range support. What must hold whatever the
// timing: with ranges, the plan from the early structure is the plan from the whole file and the
// pipelines compiled from it are the ones the session uses; without ranges, or when the guess is
// wrong (a tail crafted to parse from inside a weight, a file that changed between requests), the
// early shapes are not used or are discarded, the outcome says why, and the answers are those of
// the same bytes loaded from memory.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { Model } from '../../runtime/graph/ir.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { scanTail } from '../../runtime/format/onnx/onnx-early.ts';
import { loadModel } from '../../runtime/loading/load-model.ts';
import { planFromShapes } from '../../runtime/loading/shape-plan.ts';
import type { ExecutionPlan } from '../../runtime/plan/execution-plan.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { startRangedServer, type RangedServer } from '../helpers/ranged-server.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { layeredMlp, matmulChain } from '../format/kiln-fixture.ts';

const rng = testRng(import.meta.url);

/** weights of 256 KB: larger than what the walk waits for, so their headers are reached by Range hops */
const matmulChain256 = (extra: Record<string, AnyTensor> = {}): WriterModel => matmulChain(rng, 6, 256, extra);

/** a graph-input field (GraphProto field 11) declaring 'fake' float32 [4]: what a misleading tail holds */
const FAKE_INPUT = [0x5a, 0x12, 0x0a, 0x04, ...new TextEncoder().encode('fake'), 0x12, 0x0a, 0x0a, 0x08, 0x08, 0x01, 0x12, 0x04, 0x0a, 0x02, 0x08, 0x04];

const chain = encodeOnnxModel(matmulChain256());
const other = encodeOnnxModel(matmulChain256()); // same structure and size, other weights
// The last weight's bytes end with a graph-input field: from there the tail parses to the end too.
const crafted = encodeOnnxModel(matmulChain256({ zz: new Tensor('uint8', Uint8Array.from([...new Array<number>(64).fill(0), ...FAKE_INPUT]), [64 + FAKE_INPUT.length]) }));
const mlp = encodeOnnxModel(layeredMlp());

let server: RangedServer | undefined;
before(async () => {
  assert.equal(other.length, chain.length);
  server = await startRangedServer({
    '/chain.onnx': { bytes: chain, ranges: true, etag: '"chain"', holdAt: 16 << 10 },
    // small weights: the walk waits for the stream where it is near, so this one pauses before its last piece (in the tail's window)
    '/mlp.onnx': { bytes: mlp, ranges: true, holdAt: mlp.length - (16 << 10) },
    '/no-ranges.onnx': { bytes: chain, ranges: false },
    '/crafted.onnx': { bytes: crafted, ranges: true },
    '/changed-etag.onnx': { bytes: chain, ranges: true, etag: '"v1"', changedTo: { bytes: other, etag: '"v2"' } },
    '/changed-bytes.onnx': { bytes: chain, ranges: true, changedTo: { bytes: other } },
  }, 4e6);
});
after(async () => server?.close());

const floats = (t: AnyTensor | undefined): number[] => Array.from(t!.data as Float32Array);

/** each step's op and its inputs' and outputs' dtypes and dims, in order */
function planSummary(plan: ExecutionPlan): string[] {
  const meta = (id: number | undefined): string => (id === undefined ? '-' : `${plan.values[id]!.meta.dtype}[${plan.values[id]!.meta.dims.join(',')}]`);
  return plan.steps.map((s) => `${s.node.opType}(${s.inputs.map(meta).join(' ')}) -> ${s.outputs.map(meta).join(' ')}`);
}

/**
 * A session streamed from `path` answers as one from memory. `held`: the download pauses after its
 * first piece until the session asks for pipelines ahead (so the early path never races the last byte).
 */
async function sessionsAgree(path: string, bytes: Uint8Array, input: number[], held = false): Promise<NonNullable<InferenceSession['pipelineCompiles']>> {
  const proto = WebGpuBackend.prototype;
  const prewarm = proto.prewarm;
  if (held) {
    const open = server!.gate(path);
    proto.prewarm = function (this: WebGpuBackend, plan) {
      open();
      return prewarm.call(this, plan);
    };
  }
  const streamed = await InferenceSession.create(`${server!.url}${path}`, { executionProviders: ['webgpu'] }).finally(() => void (proto.prewarm = prewarm));
  const fromMemory = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  try {
    const x = { x: randomTensor({ dtype: 'float32', dims: input }, rng) };
    const name = streamed.outputNames[0]!;
    assert.deepEqual(floats((await streamed.run(x))[name]), floats((await fromMemory.run(x))[name]), `${path}: the same outputs as from memory`);
    return streamed.pipelineCompiles!;
  } finally {
    await streamed.release();
    await fromMemory.release();
  }
}

for (const [path, bytes, input] of [['/chain.onnx', chain, [1, 256]], ['/mlp.onnx', mlp, [2, 128]]] as const) {
  test(`webgpu, ${path} from a server with Range support: shapes before the last byte, the plan of the whole file, no pipeline compiled after it`, async () => {
    let early: Model | undefined;
    const open = server!.gate(path); // the download pauses after its first piece until the shapes are told
    const loaded = await loadModel(`${server!.url}${path}`, { onnxEvents: { onShapes: (m) => void (early = m(), open()) } });
    assert.equal(loaded.onnxStream?.early?.ok, true, JSON.stringify(loaded.onnxStream));
    assert.ok(early, 'told the early structure');
    assert.ok((server!.rangeRequests.get(path)?.length ?? 0) >= 1);
    assert.deepEqual(planSummary((await planFromShapes(early, 'webgpu', true))!), planSummary((await planFromShapes(readOnnxModel(bytes), 'webgpu', true))!));
    const counts = await sessionsAgree(path, bytes, [...input], true);
    assert.ok(counts.ahead > 0, JSON.stringify(counts));
    assert.equal(counts.onDemand, 0, `pipelines compiled after the last byte: ${JSON.stringify(counts)}`);
    assert.equal(counts.claimed, counts.ahead, JSON.stringify(counts));
  });
}

test('the chain\'s weights are hopped over by Range requests for their headers', async () => {
  const before = server!.rangeRequests.get('/chain.onnx')?.length ?? 0;
  const open = server!.gate('/chain.onnx'); // only the nodes and the first weight's header stream in first
  const loaded = await loadModel(`${server!.url}/chain.onnx`, { onnxEvents: { onShapes: open } });
  const made = (server!.rangeRequests.get('/chain.onnx')?.length ?? 0) - before;
  assert.equal(loaded.onnxStream?.early?.ok, true);
  // the tail, one hop to each of w1..w5 (w0's header came with the stream), and the inputs' window
  // where the walk got there before the tail's answer
  assert.ok(made === 6 || made === 7, `Range requests: ${made}`);
});

test('webgpu, a server without Range support: nothing early, the outcome says why, the same answers', async () => {
  const loaded = await loadModel(`${server!.url}/no-ranges.onnx`);
  assert.deepEqual(loaded.onnxStream?.early, { ok: false, why: 'the server does not say Accept-Ranges: bytes' });
  assert.equal(server!.rangeRequests.get('/no-ranges.onnx'), undefined, 'no Range request made');
  const counts = await sessionsAgree('/no-ranges.onnx', chain, [1, 256]);
  assert.equal(counts.ahead, 0, JSON.stringify(counts));
});

test('a tail crafted to parse from inside the last weight: the scan is misled, the walk shows it, nothing early is used', async () => {
  const tail = crafted.subarray(crafted.length - 4096);
  const scanned = scanTail(tail, crafted.length - 4096);
  assert.ok(scanned, 'the crafted bytes parse as a tail');
  assert.equal((scanned.graph.input as { name: string }[])[0]!.name, 'fake', 'the scan took the crafted start');
  let told = false;
  const loaded = await loadModel(`${server!.url}/crafted.onnx`, { onnxEvents: { onShapes: () => void (told = true) } });
  assert.equal(told, false);
  assert.equal(loaded.onnxStream?.early?.ok, false);
  assert.match(loaded.onnxStream!.early!.why, /^the tail scan was misled/);
  assert.deepEqual(loaded.model.graph.inputs.map((i) => i.name), ['x']);
  const counts = await sessionsAgree('/crafted.onnx', crafted, [1, 256]);
  assert.equal(counts.ahead, 0, JSON.stringify(counts));
});

test('a file that changed between the download and the Range requests: refused by its ETag, or discarded at the last byte by its bytes', async () => {
  const byEtag = await loadModel(`${server!.url}/changed-etag.onnx`);
  assert.deepEqual(byEtag.onnxStream?.early, { ok: false, why: 'the file changed between requests (ETag/Last-Modified "v1" then "v2")' });
  let told = false;
  const byBytes = await loadModel(`${server!.url}/changed-bytes.onnx`, { onnxEvents: { onShapes: () => void (told = true) } });
  assert.ok(told, 'without an ETag the changed file is only seen at the last byte');
  assert.equal(byBytes.onnxStream?.early?.ok, false);
  assert.match(byBytes.onnxStream!.early!.why, /^discarded: byte \d+ from a Range request differs from the download/);
  await sessionsAgree('/changed-etag.onnx', chain, [1, 256]);
  await sessionsAgree('/changed-bytes.onnx', chain, [1, 256]);
});
