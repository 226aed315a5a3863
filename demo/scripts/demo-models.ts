// `npm start` uses the bundles kept in demo/models and trains the missing ones with the command
// demo/models/README.md documents for them (its ```sh block: one `kiln train` line per bundle, each
// naming its output file). Afterwards manifest.json is refreshed (hashes, sizes, versions).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../core/errors.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { readManifest, refreshManifest, type ManifestRefresh } from './manifest-file.ts';

const isTrain = (c: string): boolean => /(^|[\s/])kiln(\.ts|\.js)?\s+train\s/.test(c);

/** `base` with the flags given in `override` replaced (or added), e.g. `--bits 4 --out other.kiln`. */
function withFlags(base: string, override: string): string {
  const tokens = base.split(/\s+/);
  const extra = override.trim().split(/\s+/);
  for (let i = 0; i < extra.length; i++) {
    const flag = extra[i]!;
    if (!flag.startsWith('--')) continue;
    const value = extra[i + 1] !== undefined && !extra[i + 1]!.startsWith('--') ? extra[++i] : undefined;
    const at = tokens.indexOf(flag);
    if (at < 0) tokens.push(flag, ...(value === undefined ? [] : [value]));
    else if (value !== undefined && tokens[at + 1] !== undefined && !tokens[at + 1]!.startsWith('--')) tokens[at + 1] = value;
    else if (value !== undefined) tokens.splice(at + 1, 0, value);
  }
  return tokens.join(' ');
}

/**
 * The `kiln train` commands the README documents, in order: lines of its shell blocks (continuation
 * lines joined) and inline code spans; "same with `--flag value ...`" means the previous command
 * with those flags replaced.
 */
export function trainCommands(readme: string): string[] {
  const out: string[] = [];
  const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  for (const line of blocks.flatMap((b) => b.replace(/\s*\\\n\s*/g, ' ').split('\n')).map((l) => l.trim())) if (isTrain(line)) out.push(line);
  const prose = readme.replace(/```[\s\S]*?```/g, '');
  for (const line of prose.split('\n')) {
    for (const m of line.matchAll(/(same with\s+)?`([^`]+)`/g)) {
      const span = m[2]!.trim();
      if (isTrain(span)) out.push(span);
      else if (m[1] && out.length > 0 && span.includes('--')) out.push(withFlags(out[out.length - 1]!, span));
    }
  }
  return out;
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
