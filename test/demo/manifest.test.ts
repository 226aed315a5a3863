// The demo's model manifest: bad manifests are refused with a typed error naming the problem; a
// bundle whose bytes change gets a new version (what makes installed pages update); the committed
// demo/models/manifest.json matches the bundles beside it; `npm start` finds the `kiln train` line
// for a missing bundle in demo/models/README.md.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { trainCommands } from '../../demo/scripts/demo-models.ts';
import { nextVersion, readManifest, refreshManifest } from '../../demo/scripts/manifest-file.ts';
import { parseManifest } from '../../demo/src/offline/manifest.ts';
import { demoRoot } from '../../demo/vite.config.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const entry = { name: 'm', version: '1', url: 'm.kiln', sha256: 'a'.repeat(64), bytes: 10, role: 'digits', label: 'int8' };

test('bad manifests are refused with INVALID_ARGUMENT naming the problem', () => {
  const cases: [unknown, RegExp][] = [
    [null, /not a JSON object/],
    [{ manifestVersion: 2, models: [] }, /manifestVersion 2 is not supported/],
    [{ manifestVersion: 1 }, /models must be an array/],
    [{ manifestVersion: 1, models: [{ ...entry, sha256: 'xyz' }] }, /m\.sha256 is not 64 hex digits/],
    [{ manifestVersion: 1, models: [{ ...entry, bytes: -1 }] }, /m\.bytes must be a positive integer/],
    [{ manifestVersion: 1, models: [{ ...entry, role: 'audio' }] }, /m\.role must be/],
    [{ manifestVersion: 1, models: [entry, entry] }, /'m' is listed twice/],
    [{ manifestVersion: 1, models: [{ ...entry, url: '' }] }, /m\.url must be a non-empty string/],
  ];
  for (const [json, message] of cases) {
    assert.throws(() => parseManifest(json), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && message.test(e.message), `${JSON.stringify(json)} -> ${message}`);
  }
  assert.equal(parseManifest({ manifestVersion: 1, models: [{ ...entry, sha256: 'A'.repeat(64) }] }).models[0]!.sha256, 'a'.repeat(64), 'hashes are compared in lowercase');
});

test('a bundle whose bytes change gets a new version; unchanged ones keep theirs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-manifest-'));
  try {
    const a = Buffer.from(rng.bytes(100 + Math.floor(rng.uniform() * 100)));
    const b = Buffer.from(rng.bytes(50));
    writeFileSync(join(dir, 'a.kiln'), a);
    writeFileSync(join(dir, 'b.kiln'), b);
    const models = [
      { ...entry, name: 'a', url: 'a.kiln', sha256: sha(a), bytes: a.length, version: '7' },
      { ...entry, name: 'b', url: 'b.kiln', sha256: sha(b), bytes: b.length, version: '2026.1' },
      { ...entry, name: 'c', url: 'c.kiln' },
    ];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ manifestVersion: 1, models }));
    const same = refreshManifest(dir);
    assert.deepEqual([same.changed, same.missing], [[], ['c']]);
    const b2 = Buffer.from(rng.bytes(60));
    writeFileSync(join(dir, 'b.kiln'), b2);
    const r = refreshManifest(dir);
    assert.deepEqual(r.changed, ['b']);
    const stored = readManifest(dir).models;
    assert.deepEqual(stored.map((m) => m.version), ['7', '2026.2', '1']);
    assert.equal(stored[1]!.sha256, sha(b2));
    assert.equal(stored[1]!.bytes, 60);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(['1', '41', 'beta', 'v2.9'].map(nextVersion), ['2', '42', 'beta.1', 'v2.10']);
});

test('demo/models/manifest.json matches the bundles kept beside it', () => {
  const dir = join(demoRoot, 'models');
  const manifest = readManifest(dir);
  assert.deepEqual(new Set(manifest.models.map((m) => m.role)), new Set(['digits', 'tabular', 'text']));
  for (const m of manifest.models) {
    const file = join(dir, m.url);
    if (!existsSync(file)) continue; // npm start trains it (checked below that it can)
    const bytes = readFileSync(file);
    assert.equal(sha(bytes), m.sha256, `${m.url}: run \`node --import tsx demo/scripts/update-manifest.ts\` after retraining`);
    assert.equal(bytes.length, m.bytes);
  }
});

test('npm start finds the `kiln train` line for each bundle in demo/models/README.md', () => {
  const readme = ['# Demo models', '', '```sh', 'kiln train --dataset mnist --bits 8 \\', '  --out demo/models/mnist-cnn-int8.kiln', 'npx kiln train --dataset iris --out demo/models/iris-mlp-int8.kiln', 'echo done', '```'].join('\n');
  assert.deepEqual(trainCommands(readme), ['kiln train --dataset mnist --bits 8 --out demo/models/mnist-cnn-int8.kiln', 'npx kiln train --dataset iris --out demo/models/iris-mlp-int8.kiln']);
  // The table form: a command in a code span, and "same with `flags`" for a variant of the previous one.
  const table = ['| bundle | command |', '|---|---|', '| a | `X=1 node --import tsx trainer-node/cli/kiln.ts train --bits 8 --seed 42 --out demo/models/a.kiln` |', '| b | same with `--bits 4 --out demo/models/b.kiln --distill` |'].join('\n');
  assert.deepEqual(trainCommands(table), [
    'X=1 node --import tsx trainer-node/cli/kiln.ts train --bits 8 --seed 42 --out demo/models/a.kiln',
    'X=1 node --import tsx trainer-node/cli/kiln.ts train --bits 4 --seed 42 --out demo/models/b.kiln --distill',
  ]);
  const real = join(demoRoot, 'models', 'README.md');
  assert.ok(existsSync(real), `${real} is committed: it must be there`);
  const commands = trainCommands(readFileSync(real, 'utf8'));
  for (const m of readManifest(join(demoRoot, 'models')).models) assert.ok(commands.some((c) => c.includes(m.url)), `demo/models/README.md has a kiln train line writing ${m.url}`);
});
