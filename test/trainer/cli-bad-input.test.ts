// `kiln train` refuses impossible options and broken data with a clear message and the right exit
// code (2 = usage, 1 = a typed KilnError), before any training starts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { main } from '../../trainer-node/cli/kiln.ts';
import { KilnError } from '../../core/errors.ts';
import { parseCsvDataset } from '../../trainer-node/data/csv.ts';
import { loadImageFolder } from '../../trainer-node/data/image-folder.ts';
import { parseIdx } from '../../trainer-node/data/mnist.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const dir = mkdtempSync(join(tmpdir(), 'kiln-train-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `kiln ...` in-process, returning the exit code and what went to stderr. */
async function kiln(...argv: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    return { code: await main(argv), stderr: lines.join('\n') };
  } finally {
    console.error = original;
  }
}

test('impossible options are usage errors (exit 2) naming the option', async () => {
  for (const [argv, text] of [
    [['--dataset', 'mnist', '--bits', '3'], '--bits must be 32, 8 or 4'],
    [['--dataset', 'mnist', '--prune', '1.5'], '--prune must be a sparsity'],
    [['--dataset', 'mnist', '--epochs', '0'], '--epochs must be an integer >= 1'],
    [['--dataset', 'cifar'], "--dataset must be mnist or iris, got 'cifar'"],
    [['--dataset', 'iris', '--arch', 'cnn'], '--arch cnn needs image data'],
    [['--dataset', 'iris', '--distill', '--bits', '32'], '--distill teaches a quantized student'],
    [['--dataset', 'iris', '--out', 'model.onnx'], '--out must name a .kiln file'],
    [['--csv', 'x.csv'], '--csv needs --label'],
    [['--dataset', 'iris', '--frobnicate'], "Unknown option '--frobnicate'"],
    [[], 'give exactly one of --dataset, --csv, --images'],
  ] as const) {
    const r = await kiln('train', ...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.ok(r.stderr.includes(text), `${argv.join(' ')}: stderr should mention "${text}": ${r.stderr}`);
  }
});

test('CSV problems are named with their line and column (exit 1)', async () => {
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, 'a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n');
  let r = await kiln('train', '--csv', csv, '--label', 'kind', '--out', join(dir, 'a.kiln'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no column 'kind' \(columns: a, b, species\)/);
  writeFileSync(csv, 'a,b,species\n1,2,x\n3,,y\n5,6,x\n7,8,y\n');
  r = await kiln('train', '--csv', csv, '--label', 'species', '--out', join(dir, 'a.kiln'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing value at line 3, column 'b'/);
  r = await kiln('train', '--csv', join(dir, 'nope.csv'), '--label', 'species', '--out', join(dir, 'a.kiln'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read CSV/);
  assert.throws(() => parseCsvDataset('a,b,c\n1,two,x\n3,4,y\n5,6,x\n7,8,y\n', 'c', 't.csv', 1), (e: unknown) => e instanceof KilnError && /line 2, column 'b': 'two' is not a number/.test(e.message));
  assert.throws(() => parseCsvDataset('a,c\n1,x\n2\n', 'c', 't.csv', 1), (e: unknown) => e instanceof KilnError && /line 3 has 1 cells/.test(e.message));
  assert.throws(() => parseCsvDataset('a,c\n1,x\n2,x\n3,x\n4,x\n', 'c', 't.csv', 1), (e: unknown) => e instanceof KilnError && /at least 2/.test(e.message));
});

test('an unreadable or malformed image folder is a clear error', async () => {
  const r = await kiln('train', '--images', join(dir, 'missing'), '--out', join(dir, 'b.kiln'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read image folder/);
  const images = join(dir, 'images');
  for (const c of ['cat', 'dog']) mkdirSync(join(images, c), { recursive: true });
  const png = (w: number, h: number): Buffer => {
    const p = new PNG({ width: w, height: h });
    p.data.fill(Math.floor(rng.uniform() * 255));
    return PNG.sync.write(p);
  };
  writeFileSync(join(images, 'cat', 'a.png'), png(4, 4));
  writeFileSync(join(images, 'dog', 'b.png'), Buffer.from('not a png at all'));
  assert.throws(() => loadImageFolder(images, 1), (e: unknown) => e instanceof KilnError && /b\.png: not a readable PNG/.test(e.message));
  writeFileSync(join(images, 'dog', 'b.png'), png(5, 4));
  assert.throws(() => loadImageFolder(images, 1), (e: unknown) => e instanceof KilnError && /images differ in size/.test(e.message));
  writeFileSync(join(images, 'dog', 'b.png'), png(4, 4));
  writeFileSync(join(images, 'dog', 'c.png'), png(4, 4));
  writeFileSync(join(images, 'cat', 'd.png'), png(4, 4));
  const d = loadImageFolder(images, 1);
  assert.deepEqual(d.classes, ['cat', 'dog']);
  assert.deepEqual(d.sampleShape, [4, 4, 1]);
  assert.equal(d.train.n + d.test.n, 4);
});

test('a malformed or truncated MNIST IDX file is refused', () => {
  const images = new Uint8Array(16 + 2 * 4);
  const labels = new Uint8Array(8 + 2);
  const iv = new DataView(images.buffer);
  const lv = new DataView(labels.buffer);
  iv.setUint32(0, 2051);
  iv.setUint32(4, 2);
  iv.setUint32(8, 2);
  iv.setUint32(12, 2);
  lv.setUint32(0, 2049);
  lv.setUint32(4, 2);
  labels[8] = 3;
  labels[9] = 7;
  images[16] = 255;
  const ok = parseIdx(images, labels, 'fixture');
  assert.equal(ok.n, 2);
  assert.equal(ok.x[0], 1);
  assert.deepEqual([...ok.y], [3, 7]);
  assert.throws(() => parseIdx(images.subarray(0, 20), labels, 'cut'), (e: unknown) => e instanceof KilnError && /truncated/.test(e.message));
  assert.throws(() => parseIdx(labels, labels, 'swapped'), (e: unknown) => e instanceof KilnError && /not an IDX image file/.test(e.message));
  labels[9] = 12;
  assert.throws(() => parseIdx(images, labels, 'bad label'), (e: unknown) => e instanceof KilnError && /label 12/.test(e.message));
});
