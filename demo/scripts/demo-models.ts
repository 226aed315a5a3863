// `npm start` uses the bundles kept in demo/models and trains the missing ones with the command
// demo/models/README.md documents for them (its ```sh block: one `kiln train` line per bundle, each
// naming its output file). Afterwards manifest.json is refreshed (hashes, sizes, versions).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../runtime/core/errors.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { readManifest, refreshManifest, type ManifestRefresh } from './manifest-file.ts';

/** The `kiln train ...` lines of the README's shell blocks, continuation lines joined. */
export function trainCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const lines = blocks.flatMap((b) => b.replace(/\s*\\\n\s*/g, ' ').split('\n')).map((l) => l.trim());
  return lines.filter((l) => /(^|\s)kiln(\.ts)?\s+train\s/.test(l) || /^npx kiln train\s/.test(l));
}

export function ensureDemoModels(modelsDir: string, log: (line: string) => void): ManifestRefresh {
  const missing = readManifest(modelsDir).models.filter((m) => !existsSync(join(modelsDir, m.url)));
  if (missing.length > 0) {
    const readmePath = join(modelsDir, 'README.md');
    const commands = existsSync(readmePath) ? trainCommands(readFileSync(readmePath, 'utf8')) : [];
    for (const m of missing) {
      const command = commands.find((c) => c.includes(m.url));
      if (!command) fail('INVALID_ARGUMENT', `demo/models/${m.url} is missing and demo/models/README.md has no \`kiln train\` line that writes it`);
      // The README's command as a user would type it; `kiln` runs from source here.
      const runnable = command.replace(/^(npx\s+)?kiln(\.ts)?\s/, 'node --import tsx trainer-node/cli/kiln.ts ');
      log(`training ${m.name} (missing): ${command}`);
      const r = spawnSync(runnable, { cwd: repoRoot, shell: true, stdio: 'inherit' });
      if (r.status !== 0 || !existsSync(join(modelsDir, m.url))) fail('INTERNAL', `\`${command}\` did not produce demo/models/${m.url} (exit ${r.status})`);
    }
  }
  return refreshManifest(modelsDir);
}
