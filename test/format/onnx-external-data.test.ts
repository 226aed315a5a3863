// External data stays inside the model's folder: a model naming '../../../../etc/hostname', an
// absolute path, a URL, percent-encoded dots or a symlink that leads outside is refused with
// INVALID_MODEL naming the tensor and the location, before the file is read; offsets and lengths
// must be byte counts inside the file. For URL models the sibling must keep the model URL's origin
// and directory (checked against a 127.0.0.1 server that records what was requested).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import protobuf from 'protobufjs/light.js';
import { siblingUrl } from '../../runtime/api/model-source.ts';
import { onnxSchema } from '../../runtime/format/onnx/onnx-schema.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';

const ModelProto = protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');
const WEIGHTS = new Float32Array([0.5, -1, 2, 4]);
/** What a leaked file would hold: four floats, so a model reading it would run and return them. */
const SECRET = new Float32Array([111, 222, 333, 444]);

/** y = x * w, with w's 16 bytes in external file `location` at `offset`. */
function model(location: string, offset = '0', length = '16'): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      node: [{ opType: 'Mul', input: ['x', 'w'], output: ['y'], name: 'mul' }],
      initializer: [{ name: 'w', dims: [4], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: location }, { key: 'offset', value: offset }, { key: 'length', value: length }] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  })).finish();
}

const root = mkdtempSync(join(tmpdir(), 'kiln-extdata-'));
const folder = join(root, 'models', 'm');
const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer.slice(0));

before(() => {
  mkdirSync(join(folder, 'data'), { recursive: true });
  writeFileSync(join(root, 'secret.bin'), bytesOf(SECRET));
  writeFileSync(join(folder, 'weights.bin'), bytesOf(WEIGHTS));
  writeFileSync(join(folder, 'data', 'weights.bin'), bytesOf(WEIGHTS));
  symlinkSync(join(root, 'secret.bin'), join(folder, 'escape.bin'));
  symlinkSync(join(folder, 'weights.bin'), join(folder, 'alias.bin'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const x = new Tensor('float32', [1, 1, 1, 1], [4]);

async function runFromFolder(location: string, offset?: string, length?: string): Promise<number[]> {
  const path = join(folder, 'model.onnx');
  writeFileSync(path, model(location, offset, length));
  const s = await InferenceSession.create(path, { executionProviders: ['cpu'] });
  try {
    return Array.from((await s.run({ x })).y!.data as Float32Array);
  } finally {
    await s.release();
  }
}

async function refused(location: string, pattern: RegExp, offset?: string, length?: string): Promise<void> {
  await assert.rejects(runFromFolder(location, offset, length), (e: unknown) => {
    assert.ok(e instanceof KilnError, `untyped: ${String(e)}`);
    assert.equal(e.code, 'INVALID_MODEL', e.message);
    assert.match(e.message, /tensor 'w'/);
    assert.ok(e.message.includes(`'${location}'`), `names the location: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  }, location);
}

test('locations inside the folder load (plain, subfolder, a symlink that stays inside)', async () => {
  for (const loc of ['weights.bin', 'data/weights.bin', './weights.bin', 'alias.bin']) assert.deepEqual(await runFromFolder(loc), Array.from(WEIGHTS), loc);
});

test("'..' segments, absolute paths, URLs and percent-encoded escapes are refused before anything is read", async () => {
  await refused('../../../../etc/hostname', /'\.\.' segment/);
  await refused('../../secret.bin', /'\.\.' segment/);
  await refused('data/../../../secret.bin', /'\.\.' segment/);
  await refused('data\\..\\..\\..\\secret.bin', /'\.\.' segment/);
  await refused('%2e%2e/%2e%2e/secret.bin', /'\.\.' segment/);
  await refused('..%2f..%2fsecret.bin', /'\.\.' segment/);
  await refused(join(root, 'secret.bin'), /absolute path/);
  await refused('%2fetc%2fhostname', /absolute path/);
  await refused('file:///etc/hostname', /URL/);
  await refused('https://example.com/w.bin', /URL/);
  await refused('C:\\Windows\\win.ini', /URL or a drive path/);
});

test('a symlink inside the folder that resolves outside it is refused', async () => {
  await refused('escape.bin', /resolves to .*secret\.bin', outside the model's folder/);
});

test('a missing file or a folder as location is a typed error naming the tensor', async () => {
  await refused('missing.bin', /cannot be read: ENOENT/);
  await refused('data', /cannot be read: EISDIR/);
});

test('offsets and lengths must be byte counts inside the file', async () => {
  assert.deepEqual(await runFromFolder('weights.bin', '0', '16'), Array.from(WEIGHTS));
  await refused('weights.bin', /external range 8\+16 is outside/, '8', '16');
  await refused('weights.bin', /offset '1e1', not a byte count/, '1e1', '16');
  await refused('weights.bin', /length '-16', not a byte count/, '0', '-16');
});

test('URL models: siblings keep the origin and directory; an escaping location is never requested', async () => {
  assert.equal(siblingUrl('http://127.0.0.1:1/models/m/model.onnx', 'data/w.bin'), 'http://127.0.0.1:1/models/m/data/w.bin');
  for (const name of ['//evil.example/w.bin', '../w.bin', '%2e%2e/w.bin', 'http://evil.example/w.bin']) {
    assert.throws(() => siblingUrl('http://127.0.0.1:1/models/m/model.onnx', name), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_MODEL', name);
  }
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    requested.push(req.url ?? '');
    const files: Record<string, Uint8Array> = {
      '/models/m/model.onnx': model('weights.bin'),
      '/models/m/evil.onnx': model('../../secret.bin'),
      '/models/m/weights.bin': bytesOf(WEIGHTS),
      '/secret.bin': bytesOf(SECRET),
    };
    const body = files[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/octet-stream' }).end(body ? Buffer.from(body) : undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const good = await InferenceSession.create(`${base}/models/m/model.onnx`, { executionProviders: ['cpu'] });
    assert.deepEqual(Array.from((await good.run({ x })).y!.data as Float32Array), Array.from(WEIGHTS));
    await good.release();
    await assert.rejects(InferenceSession.create(`${base}/models/m/evil.onnx`, { executionProviders: ['cpu'] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_MODEL' && /tensor 'w'.*'\.\.\/\.\.\/secret\.bin'/.test(e.message));
    assert.ok(!requested.includes('/secret.bin'), `requested: ${requested.join(', ')}`);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
});
