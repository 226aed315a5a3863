// `kiln compress` with bad input: each mistake ends with a clear message and the documented exit
// code (2: usage, 1: a typed failure), never a crash, a hang or a half-written output.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { main } from '../../trainer-node/cli/kiln.ts';
import { writeNpy } from '../../trainer-node/common/npy.ts';
import { TINY_INPUT, tinyWorkspace } from './tiny-model.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

async function kiln(args: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const saved = { error: console.error, log: console.log };
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  console.log = () => undefined;
  try {
    return { code: await main(['compress', ...args]), err: lines.join('\n') };
  } finally {
    Object.assign(console, saved);
  }
}

const ws = tinyWorkspace(2);
const out = join(ws.dir, 'out.kiln');
const base = [ws.model, '--out', out, '--sensitivity-samples', '0', '--samples', '2'];
const npyFolder = (name: string, files: Record<string, Tensor<'float32'> | Tensor<'float64'>>): string => {
  const dir = join(ws.dir, name);
  mkdirSync(dir);
  for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), writeNpy(t));
  return dir;
};
const sample = (n: number, dims: readonly number[] = TINY_INPUT) => new Tensor('float32', Float32Array.from({ length: n * dims.reduce((a, b) => a * b, 1) }, () => rng.uniform()), [n, ...dims]);

const cases: { name: string; args: string[]; code: number; message: RegExp }[] = [
  { name: '--bits 3', args: [...base, '--bits', '3'], code: 2, message: /--bits must be 8 or 4, got '3'/ },
  { name: 'no --out', args: [ws.model], code: 2, message: /--out model\.kiln is required/ },
  { name: '--block 48', args: [...base, '--bits', '4', '--block', '48'], code: 2, message: /--block must be 32, 64 or 128/ },
  { name: 'unknown option', args: [...base, '--fast'], code: 2, message: /unknown option --fast/ },
  { name: 'missing calibration folder', args: [...base, '--calib', join(ws.dir, 'nope')], code: 2, message: /no such folder/ },
  { name: 'empty calibration folder', args: [...base, '--calib', npyFolder('empty', {})], code: 2, message: /holds no \.npy files \(expected x\.npy\)/ },
  { name: '.npy named after no input', args: [...base, '--calib', npyFolder('wrongname', { 'x.npy': sample(2), 'image.npy': sample(2) })], code: 2, message: /image\.npy matches no model input \(the model's inputs: x\)/ },
  { name: '.npy with the wrong shape', args: [...base, '--calib', npyFolder('wrongshape', { 'x.npy': sample(2, [3, 12, 10]) })], code: 1, message: /x\.npy: shape \[2, 3, 12, 10\], expected \[samples, 3, 12, 12\]/ },
  { name: '.npy without the sample axis', args: [...base, '--calib', npyFolder('noaxis', { 'x.npy': new Tensor('float32', new Float32Array(432), [...TINY_INPUT]) })], code: 1, message: /expected \[samples, 3, 12, 12\]/ },
  { name: '.npy with the wrong dtype', args: [...base, '--calib', npyFolder('wrongtype', { 'x.npy': new Tensor('float64', new Float64Array(2 * 432), [2, ...TINY_INPUT]) })], code: 1, message: /dtype float64, but model input 'x' is float32/ },
  { name: '--keep of a node that does not exist', args: [...base, '--keep', 'conv_99'], code: 2, message: /--keep conv_99: node 'conv_99' does not exist in the model; quantizable layers: c1, c2, mm, fc/ },
  { name: '--keep of a node that is not a layer', args: [...base, '--keep', 'softmax'], code: 2, message: /node 'softmax' is not a quantizable layer/ },
  { name: 'missing model file', args: [join(ws.dir, 'missing.onnx'), '--out', out], code: 1, message: /no such model file/ },
];

for (const c of cases) {
  test(`bad input: ${c.name}`, async () => {
    const r = await kiln(c.args);
    assert.equal(r.code, c.code, r.err);
    assert.match(r.err, c.message);
    assert.ok(!existsSync(out), 'an output was written');
  });
}

test('bad input: a model with ops Kiln does not run names them', async () => {
  const path = join(ws.dir, 'unsupported.onnx');
  writeFileSync(path, encodeOnnxModel({
    nodes: [{ opType: 'Det', name: 'det', inputs: ['x'], outputs: ['y'] }, { opType: 'Bernoulli', name: 'e', inputs: ['x'], outputs: ['z'] }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [3, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [] }, { name: 'z', dtype: 'float32', dims: [3, 3] }],
  }));
  const r = await kiln([path, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /UNSUPPORTED_OPS.*Bernoulli \(e\).*Det \(det\)|UNSUPPORTED_OPS.*Det \(det\).*Bernoulli \(e\)/);
});

test('bad input: a model without quantizable layers says so', async () => {
  const path = join(ws.dir, 'nolayers.onnx');
  writeFileSync(path, encodeOnnxModel({ nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dtype: 'float32', dims: [2] }], outputs: [{ name: 'y', dtype: 'float32', dims: [2] }] }));
  const r = await kiln([path, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no Conv, MatMul or Gemm with a constant float32 weight/);
});

test('no --calib: synthetic inputs with a loud warning', async () => {
  const r = await kiln([...base]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /WARNING: no --calib folder: calibrating on SYNTHETIC inputs/);
  assert.ok(existsSync(out));
});
