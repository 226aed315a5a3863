// Node's source of the built kernel modules: dist/wasm/ read from disk. Kept apart from
// wasm-module.ts because browser builds must not import node: modules.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fail } from '../../../core/errors.ts';
import type { WasmSource } from './wasm-module.ts';

/** dist/wasm/ seen from this file in the source tree, and from the bundled dist/node/index.js. */
const CANDIDATE_DIRS = ['../../../dist/wasm/', '../wasm/'];

const sources = new Map<string | undefined, WasmSource>();

/** One function per directory, so sessions reading the same files share compiled modules (wasm-module.ts). */
export function nodeWasmSource(dir?: string): WasmSource {
  const known = sources.get(dir);
  if (known) return known;
  const source: WasmSource = async (fileName) => {
    const paths = dir !== undefined ? [`${dir.replace(/\/?$/, '/')}${fileName}`] : CANDIDATE_DIRS.map((d) => fileURLToPath(new URL(d + fileName, import.meta.url)));
    const found = paths.find((p) => existsSync(p));
    if (found === undefined) fail('DEVICE_UNAVAILABLE', `wasm backend: ${fileName} not found (looked at ${paths.join(', ')}); build it with node scripts/build-wasm.mjs`);
    const bytes = await readFile(found);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  sources.set(dir, source);
  return source;
}
