// `node --import tsx demo/scripts/update-manifest.ts`: after retraining a demo bundle, rewrites
// demo/models/manifest.json (hashes, sizes, bumped versions). `npm start` does the same.
import { join } from 'node:path';
import { refreshManifest } from './manifest-file.ts';
import { demoRoot } from '../vite.config.ts';

const r = refreshManifest(join(demoRoot, 'models'));
console.log(r.changed.length ? `new versions: ${r.changed.map((n) => `${n} v${r.manifest.models.find((m) => m.name === n)!.version}`).join(', ')}` : 'manifest.json is up to date');
if (r.missing.length) console.log(`missing bundles (npm start trains them): ${r.missing.join(', ')}`);
