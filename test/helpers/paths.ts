import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The shared folder beside the checkout (CI clones main with shared/ beside it). */
export const sharedDir = [join(repoRoot, '../shared'), join(repoRoot, 'shared')].find((d) => existsSync(d)) ?? join(repoRoot, '../shared');
export const conformanceDir = join(sharedDir, 'conformance/onnx');
