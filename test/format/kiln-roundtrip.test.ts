// .kiln round trip: a WriterModel written as .kiln and as ONNX reads back to the same IR (every
// initializer bit for bit, int8/int4 still integer typed) and runs to exactly the same outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { KILN_ALIGN, PREAMBLE_BYTES, alignUp } from '../../runtime/format/kiln/kiln-layout.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Model } from '../../runtime/graph/ir.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { bundleSpec, ed25519Pair, quantizedModel } from './kiln-fixture.ts';
import { storedHeaderLength } from './kiln-surgery.ts';

const bits = (t: AnyTensor): string => `${t.type}[${t.dims.join(',')}]:${Array.isArray(t.data) ? t.data.join(',') : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex')}`;

function assertSameModel(got: Model, want: Model): void {
  assert.deepEqual([...got.opsets], [...want.opsets]);
  assert.equal(got.producer, want.producer);
  assert.deepEqual([...got.metadata], [...want.metadata]);
  assert.deepEqual(got.graph.inputs, want.graph.inputs);
  assert.deepEqual(got.graph.outputs, want.graph.outputs);
  assert.deepEqual([...got.graph.initializers.keys()].sort(), [...want.graph.initializers.keys()].sort());
  for (const [name, t] of want.graph.initializers) assert.equal(bits(got.graph.initializers.get(name)!), bits(t), name);
  assert.equal(got.graph.nodes.length, want.graph.nodes.length);
  got.graph.nodes.forEach((n, i) => {
    const w = want.graph.nodes[i]!;
    assert.deepEqual([n.name, n.opType, n.domain, n.inputs, n.outputs], [w.name, w.opType, w.domain, w.inputs, w.outputs]);
    assert.deepEqual(n.attrs.names().sort(), w.attrs.names().sort());
    for (const a of w.attrs.names()) {
      const wv = w.attrs.raw(a)!;
      const gv = n.attrs.raw(a)!;
      if (typeof wv === 'object' && 'dims' in wv) assert.equal(bits(gv as AnyTensor), bits(wv), `${n.name}.${a}`);
      else assert.deepEqual(gv, wv, `${n.name}.${a}`);
    }
  });
}

test('a .kiln bundle reads back to the same IR as the ONNX of the same WriterModel', async () => {
  const model = quantizedModel();
  const spec = bundleSpec();
  const bundle = await readKilnBundle(await encodeKilnBundle(model, spec));
  assertSameModel(bundle.model, readOnnxModel(encodeOnnxModel(model)));
  assert.deepEqual(bundle.spec, JSON.parse(JSON.stringify(spec)));
  assert.equal(bundle.signature, 'none');
  assert.deepEqual(bundle.version, { major: 1, minor: 0 });
  // Quantized weights keep their stored type: what runs is what was written.
  assert.equal(bundle.model.graph.initializers.get('w_q')!.type, 'int8');
  assert.equal(bundle.model.graph.initializers.get('m_q')!.type, 'int4');
});

test('the tensor table lists weights in execution order, 64-byte aligned, with quantization notes', async () => {
  const bytes = await encodeKilnBundle(quantizedModel(), bundleSpec(), { sectionBytes: 1024 });
  const { header } = await readKilnBundle(bytes);
  assert.deepEqual(header.tensors.map((t) => t.name), ['w_q', 'w_scale', 'w_zp', 'bias', 'shape', 'm_q', 'm_scale', 'm_zp', 'offset.value', 'h16']);
  assert.ok(header.sections.length > 1, 'small sections split the data');
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const dataStart = alignUp(PREAMBLE_BYTES + storedHeaderLength(bytes) + view.getUint32(12, true));
  for (const t of header.tensors) assert.equal((dataStart + header.sections[t.section]!.offset + t.offset) % KILN_ALIGN, 0, t.name);
  const notes = Object.fromEntries(header.tensors.filter((t) => t.quantization).map((t) => [t.name, t.quantization]));
  assert.deepEqual(notes, { w_q: 'int8 per-channel axis 0', m_q: 'int4 block 16' });
  assert.equal(header.tensors.find((t) => t.name === 'm_q')!.byteLength, (144 * 16) / 2, 'int4 packed two per byte');
});

test('entropy coding, header compression, small sections and a signature change the bytes, not the model', async () => {
  const model = quantizedModel(32);
  const keys = await ed25519Pair();
  const plain = await encodeKilnBundle(model, bundleSpec(32), { compressHeader: false });
  const packed = await encodeKilnBundle(model, bundleSpec(32), { entropyCoding: true, signingKey: keys.privateKey, sectionBytes: 512 });
  const read = await readKilnBundle(packed, { publicKey: keys.publicKey, requireSignature: true });
  assert.equal(read.signature, 'valid');
  assert.ok(read.header.sections.some((s) => s.encoding === 'deflate-raw'), 'int4/int8 sections shrink under deflate');
  assert.ok(read.header.sections.every((s) => s.encoding === 'none' || s.byteLength < s.rawLength));
  assertSameModel(read.model, (await readKilnBundle(plain)).model);
  assert.ok(storedHeaderLength(packed) < storedHeaderLength(plain) / 2, 'the header is stored compressed by default');
  assert.equal((await readKilnBundle(packed)).signature, 'unverified');
});

for (const backend of ['js', 'wasm', 'webgpu'] as const) {
  test(`${backend}: a session on the .kiln bundle gives exactly the ONNX session's outputs`, async () => {
    const model = quantizedModel();
    const spec = bundleSpec();
    const fromOnnx = await InferenceSession.create(encodeOnnxModel(model), { executionProviders: [backend] });
    const fromKiln = await InferenceSession.create(await encodeKilnBundle(model, spec, { entropyCoding: true, sectionBytes: 2048 }), { executionProviders: [backend] });
    try {
      assert.deepEqual(fromKiln.inputMetadata, fromOnnx.inputMetadata);
      assert.deepEqual(fromKiln.outputMetadata, fromOnnx.outputMetadata);
      assert.deepEqual(fromKiln.bundle, JSON.parse(JSON.stringify(spec)));
      assert.equal(fromOnnx.bundle, undefined);
      for (const batch of [1, 3]) {
        const x = randomTensor({ dtype: 'float32', dims: [batch, 3, 6, 6] });
        const want = (await fromOnnx.run({ x })).y!;
        const got = (await fromKiln.run({ x })).y!;
        assert.deepEqual([...got.dims], [batch, 16]);
        assert.equal(bits(got), bits(want));
        assert.ok((want.data as Float32Array).some((v) => v !== 0), 'the model computes something');
      }
    } finally {
      await fromOnnx.release();
      await fromKiln.release();
    }
  });
}
