// Bundles a test-only page entry (TypeScript importing runtime sources) into one ES module with
// Vite, for pages served by the static server. Not minified: stack traces stay readable.
import { basename } from 'node:path';
import { build } from 'vite';
import { repoRoot } from '../../test/helpers/paths.ts';

/** Writes `<outDir>/<entry name>.js` and returns that file name. */
export async function bundlePageEntry(entry: string, outDir: string): Promise<string> {
  const fileName = `${basename(entry).replace(/\.ts$/, '')}.js`;
  await build({
    root: repoRoot,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      sourcemap: 'inline',
      lib: { entry, formats: ['es'], fileName: () => fileName },
    },
  });
  return fileName;
}
