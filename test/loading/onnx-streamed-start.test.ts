// Cold start while an ONNX model streams (runtime/format/onnx/onnx-stream.ts, runtime/loading/
// streamed-start.ts): served slowly over http, a model is decoded while it arrives, the backend starts
// at its first node and each weight is uploaded when complete. What must hold whatever the timing:
// the session answers exactly as one made from the same bytes in memory (the whole-buffer path), on
// WebGPU and on wasm; a truncated or corrupt download fails with the error the same bytes give from
// memory; a download that fails gives back the device it started.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AnyTensor } from '../../core/tensor.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { loadModel } from '../../runtime/loading/load-model.ts';
import { InferenceSession, KilnError } from '../../runtime/node.ts';
import { startCountingServer, type CountingServer } from '../browser/helpers/counting-server.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { layeredMlp, quantizedModel } from '../format/kiln-fixture.ts';

const rng = testRng(import.meta.url);

const models: Record<string, { bytes: Uint8Array; input: number[]; weights: number }> = {
  // initializers, an int8 DequantizeLinear folded by a pass (its preloads are dropped)
  'layered-mlp': { bytes: new Uint8Array(encodeOnnxModel(layeredMlp())), input: [2, 128], weights: 12 },
  // int8 QDQ Conv, int4 blocked MatMul, float16, a Constant node
  quantized: { bytes: new Uint8Array(encodeOnnxModel(quantizedModel())), input: [2, 3, 6, 6], weights: 10 },
  // every weight in a Constant node (paddle2onnx)
  'ocr-cls': { bytes: new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'))), input: [1, 3, 48, 192], weights: -1 },
};
const cut = models['layered-mlp']!.bytes.subarray(0, models['layered-mlp']!.bytes.length - 3000); // inside the last weight
// A byte inserted inside the graph: its declared length now ends one byte short of its last field.
const quantized = models.quantized!.bytes;
const corrupt = new Uint8Array(quantized.length + 1);
corrupt.set(quantized.subarray(0, quantized.length >> 1));
corrupt.set(quantized.subarray(quantized.length >> 1), (quantized.length >> 1) + 1);

const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-stream-'));
let server: CountingServer | undefined;

before(async () => {
  for (const [name, { bytes }] of Object.entries(models)) writeFileSync(join(dir, `${name}.onnx`), bytes);
  writeFileSync(join(dir, 'cut.onnx'), cut);
  writeFileSync(join(dir, 'corrupt.onnx'), corrupt);
  server = await startCountingServer({ mounts: { '/slow/': dir }, cors: false, slow: /^\/slow\// });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const values = (t: AnyTensor | undefined): unknown[] => Array.from(t!.data as ArrayLike<unknown>);

for (const ep of ['webgpu', 'wasm'] as const) {
  for (const [name, { bytes, input, weights }] of Object.entries(models)) {
    test(`${ep}, streamed ${name}.onnx: read while it streamed, weights uploaded as they came, the same outputs as from memory`, async () => {
      const url = `${server!.url}/slow/${name}.onnx`;
      const loaded = await loadModel(url);
      assert.equal(loaded.onnxStream?.streamed, true);
      const proto = WebGpuBackend.prototype;
      const preload = proto.preload;
      let preloads = 0;
      proto.preload = function (this: WebGpuBackend, t, n) {
        preloads++;
        preload.call(this, t, n);
      };
      let streamed: InferenceSession | undefined;
      let fromMemory: InferenceSession | undefined;
      try {
        streamed = await InferenceSession.create(url, { executionProviders: [ep] });
        const duringStream = preloads;
        fromMemory = await InferenceSession.create(bytes, { executionProviders: [ep] });
        assert.equal(preloads, duringStream, 'bytes in memory take the whole-buffer path: nothing preloaded');
        if (ep === 'webgpu') {
          const expected = weights >= 0 ? weights : loaded.model.graph.nodes.filter((n) => n.opType === 'Constant' && n.attrs.tensor('value')).length;
          assert.equal(duringStream, expected, `${name}: each weight uploaded during the download`);
        } else assert.equal(duringStream, 0, 'the wasm backend keeps weights on the host');
        const inputName = streamed.inputNames[0]!;
        const x = { [inputName]: randomTensor({ dtype: 'float32', dims: input }, rng) };
        const [a, b] = [await streamed.run(x), await fromMemory.run(x)];
        assert.deepEqual(Object.keys(a), Object.keys(b));
        for (const k of Object.keys(a)) assert.deepEqual(values(a[k]), values(b[k]), `${name}: output '${k}'`);
      } finally {
        proto.preload = preload;
        await streamed?.release();
        await fromMemory?.release();
      }
    });
  }
}

async function errorOf(source: string | Uint8Array): Promise<{ code: string; message: string }> {
  try {
    await (await InferenceSession.create(source, { executionProviders: ['webgpu'] })).release();
  } catch (e) {
    if (e instanceof KilnError) return { code: e.code, message: e.message };
    throw e;
  }
  return assert.fail('the session was created');
}

test('webgpu: a cut or corrupt ONNX download fails as the same bytes do from memory, and gives back the device it started', async () => {
  const proto = WebGpuBackend.prototype;
  const release = proto.release;
  let released = 0;
  proto.release = function (this: WebGpuBackend) {
    released++;
    release.call(this);
  };
  try {
    for (const [file, bytes] of [['cut.onnx', cut], ['corrupt.onnx', corrupt]] as const) {
      released = 0;
      const fromUrl = await errorOf(`${server!.url}/slow/${file}`);
      assert.equal(released, 1, `${file}: the backend started during the download was released`);
      assert.deepEqual(fromUrl, await errorOf(bytes), `${file}: the same error as from memory`);
      assert.equal(fromUrl.code, 'INVALID_MODEL');
    }
  } finally {
    proto.release = release;
  }
});
