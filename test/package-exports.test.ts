// The published package as users get it: `npm run build` output reached through package.json
// "exports" (`import('kilnjs')` self-reference), the browser bundles, and the declarations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { encodeOnnxModel } from '../runtime/format/onnx/onnx-writer.ts';
import { ensureBuild } from '../scripts/browser/ensure-build.ts';
import { repoRoot } from './helpers/paths.ts';

/** What the built entries export; checked at run time because dist/ has no types until it is built. */
type KilnModule = typeof import('../runtime/index.ts');

function asKiln(m: unknown, where: string): KilnModule {
  const o = m as Partial<Record<keyof KilnModule, unknown>>;
  for (const k of ['InferenceSession', 'Tensor', 'KilnError'] as const) assert.equal(typeof o[k], 'function', `${where} must export ${k}`);
  assert.equal(typeof (o.env as { wasm?: unknown } | undefined)?.wasm, 'object', `${where} must export env (onnxruntime-web's)`);
  return o as KilnModule;
}

// Specifiers held in variables: tsc must not try to resolve dist/ (absent before the first build).
const importDynamic = (specifier: string): Promise<unknown> => import(specifier);

const addModel = encodeOnnxModel({
  nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
  inputs: [
    { name: 'a', dtype: 'float32', dims: [2, 3] },
    { name: 'b', dtype: 'float32', dims: [3] },
  ],
  outputs: [{ name: 'c', dtype: 'float32', dims: [2, 3] }],
});

async function runAdd(kiln: KilnModule, backend: 'wasm' | 'js' | 'webgpu'): Promise<void> {
  const session = await kiln.InferenceSession.create(addModel, { executionProviders: [backend] });
  try {
    assert.equal(session.executionProvider, backend);
    const a = new kiln.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = new kiln.Tensor('float32', Float32Array.from([0.5, -1, 10]), [3]);
    const out = await session.run({ a, b });
    const c = out.c;
    assert.ok(c, 'output c');
    assert.deepEqual([...c.dims], [2, 3]);
    assert.deepEqual(Array.from(c.data as Float32Array), [1.5, 1, 13, 4.5, 4, 16]);
  } finally {
    await session.release();
  }
}

let kiln: KilnModule;
before(async () => {
  console.log(`# ${await ensureBuild()}`);
  kiln = asKiln(await importDynamic('kilnjs'), "import('kilnjs')");
});

test("import('kilnjs') resolves to the Node build", () => {
  const resolved = createRequire(join(repoRoot, 'package.json')).resolve('kilnjs');
  assert.equal(resolved, join(repoRoot, 'dist/node/index.js'));
  const code = readFileSync(resolved, 'utf8');
  // Its dependencies stay imports: installed beside it, never inlined.
  // (ONNX decoding needs no npm package: runtime/format/onnx/onnx-decoder.ts; protobufjs is the trainer's.)
  assert.ok(!/Root\.fromJSON|lookupType\(/.test(code), 'no protobuf reflection library inlined');
  assert.ok(/\(\s*["']webgpu["']\s*\)/.test(code), 'webgpu is required at run time, not bundled');
  assert.ok(!/class GPUAdapter|dawn\.node/.test(code), 'no trace of the webgpu package inside');
});

test('the "browser" condition resolves to dist/kiln.mjs (what bundlers pick for web builds)', async () => {
  const script = "console.log(import.meta.resolve('kilnjs'))";
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=browser', '--input-type=module', '-e', script], { cwd: repoRoot });
  assert.equal(stdout.trim(), pathToFileURL(join(repoRoot, 'dist/kiln.mjs')).href);
});

for (const backend of ['wasm', 'js', 'webgpu'] as const) {
  test(`import('kilnjs') runs an Add model on ${backend}`, () => runAdd(kiln, backend));
}

test('KilnError from the built package is typed and coded', async () => {
  await assert.rejects(kiln.InferenceSession.create(new Uint8Array([1, 2, 3]), { executionProviders: ['cpu'] }), (e: unknown) => {
    assert.ok(e instanceof kiln.KilnError, `expected KilnError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_MODEL');
    return true;
  });
});

// The browser builds find their wasm modules with fetch() beside the bundle, which Node cannot do for
// file: URLs: in Node they run the plain-TypeScript backend ('js'); test/wasm/threads-bundle.test.ts
// runs their wasm backend in Chromium.
test('dist/kiln.mjs has no Node or webgpu-package imports and runs on js', async () => {
  const code = readFileSync(join(repoRoot, 'dist/kiln.mjs'), 'utf8');
  assert.ok(!/(from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:|fs|path|module|webgpu)["'/]/.test(code), 'no Node or webgpu-package import');
  assert.ok(!/^\s*import[\s{*]/m.test(code), 'the browser bundle is self-contained');
  await runAdd(asKiln(await importDynamic(pathToFileURL(join(repoRoot, 'dist/kiln.mjs')).href), 'dist/kiln.mjs'), 'js');
});

test('dist/kiln.iife.js defines the global kiln for script tags', async () => {
  const code = readFileSync(join(repoRoot, 'dist/kiln.iife.js'), 'utf8');
  assert.ok(!/(require\s*\(\s*|import\s*\(\s*)["'](node:|webgpu)/.test(code), 'no Node or webgpu-package import');
  // A classic script's top-level `var kiln` becomes a global; a function scope stands in for the page.
  const global = new Function(`${code}\nreturn kiln;`)() as unknown;
  // Its lazy parts are classic scripts too; one that the page already ran is used as it is (here the
  // ONNX reader: Node has neither <script> elements nor importScripts to load it on demand).
  new Function(readFileSync(join(repoRoot, 'dist/kiln.iife-onnx-reader.js'), 'utf8'))();
  await runAdd(asKiln(global, 'window.kiln'), 'js');
});

test('declarations in dist/types type-check a consumer through "exports"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-consumer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules/kilnjs'), 'dir');
  writeFileSync(
    join(dir, 'consumer.ts'),
    [
      "import { InferenceSession, Tensor, KilnError, type KilnErrorCode, type SessionOptions } from 'kilnjs';",
      "const options: SessionOptions = { executionProviders: ['webgpu', 'cpu'] };",
      'export async function run(model: Uint8Array): Promise<readonly number[]> {',
      '  const session = await InferenceSession.create(model, options);',
      "  const out = await session.run({ x: new Tensor('float32', new Float32Array(4), [2, 2]) });",
      '  return out[session.outputNames[0]!]!.dims;',
      '}',
      'export const code = (e: unknown): KilnErrorCode | undefined => (e instanceof KilnError ? e.code : undefined);',
      '// @ts-expect-error a wrong dtype must not type-check',
      "export const bad = new Tensor('float33', [1], [1]);",
      '',
    ].join('\n'),
  );
  const tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
  // Both resolutions users configure; no @types: the declarations must stand on their own.
  const modes = [['nodenext', 'nodenext'], ['esnext', 'bundler']] as const;
  await Promise.all(
    modes.map(async ([module, moduleResolution]) => {
      const config = join(dir, `tsconfig.${moduleResolution}.json`);
      const compilerOptions = { noEmit: true, strict: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], module, moduleResolution };
      writeFileSync(config, JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      const r = await promisify(execFile)(process.execPath, [tsc, '-p', config], { cwd: dir }).catch((e: { stdout?: string; stderr?: string }) => e);
      assert.equal(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), '', `tsc (${moduleResolution}) reported errors`);
    }),
  );
});

test('the "bin" entry dist/cli/kiln.js runs: help, and kiln inspect on a .kiln bundle', async () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const cli = join(repoRoot, pkg.bin.kiln!);
  const help = await promisify(execFile)(process.execPath, [cli, '--help'], { cwd: repoRoot });
  for (const command of ['train', 'compress', 'inspect', 'collect']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  const bundle = join(repoRoot, 'demo/models/iris-mlp-int8.kiln');
  const inspected = await promisify(execFile)(process.execPath, [cli, 'inspect', bundle, '--json'], { cwd: repoRoot });
  const report = JSON.parse(inspected.stdout) as Record<string, unknown>;
  assert.ok(JSON.stringify(report).includes('DequantizeLinear'), 'the bundle is quantized: its report names DequantizeLinear');
  const unknown = await promisify(execFile)(process.execPath, [cli, 'bake']).then(
    () => undefined,
    (e: { code?: number; stderr?: string }) => e,
  );
  assert.equal(unknown?.code, 2, 'an unknown command is a usage error');
  assert.match(unknown?.stderr ?? '', /unknown command 'bake'/);
});
