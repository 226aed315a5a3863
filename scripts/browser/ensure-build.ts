// Tests of the published files call ensureBuild() first: it runs `npm run build` when dist/ is
// missing or older than its sources, one process at a time (test files run in parallel).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../test/helpers/paths.ts';

export const BUILD_OUTPUTS = ['dist/kiln.mjs', 'dist/kiln.worker.mjs', 'dist/kiln.core.mjs', 'dist/kiln.iife.js', 'dist/kiln.iife-onnx-reader.js', 'dist/kiln.worker-onnx-reader.mjs', 'dist/node/index.js', 'dist/cli/kiln.js', 'dist/types/runtime/index.d.ts'] as const;
const BUILD_INPUTS = ['core', 'runtime', 'kernels', 'trainer-node', 'collector', 'vite.config.ts', 'scripts/build.mjs', 'tsconfig.build.json', 'tsconfig.json', 'package.json'];
const LOCK_STALE_MS = 5 * 60_000;

/** The newest modification time of a file or anything below a folder (0 when missing). */
export function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Why dist/ must be rebuilt, or undefined when it is up to date. */
export function staleReason(): string | undefined {
  const missing = BUILD_OUTPUTS.find((o) => !existsSync(join(repoRoot, o)));
  if (missing) return `${missing} is missing`;
  const oldestOutput = Math.min(...BUILD_OUTPUTS.map((o) => statSync(join(repoRoot, o)).mtimeMs));
  const newer = BUILD_INPUTS.find((i) => newestMtime(join(repoRoot, i)) > oldestOutput);
  return newer ? `${newer} changed after the last build` : undefined;
}

function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed (exit ${code}):\n${log}`))));
  });
}

/** Whether the process that took a lock is gone (its pid file names it); unreadable: not known to be gone. */
function holderGone(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0); // throws ESRCH when no such process exists
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs `work` holding a lock folder named `name` in the temp dir, one process at a time (test files
 * run in parallel). A lock whose holder was killed is taken over at once (its pid file names a
 * process that no longer exists), or after LOCK_STALE_MS when that cannot be told.
 */
export async function withBuildLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      if (existsSync(lock) && (holderGone(lock) || Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS)) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds dist/ if needed; returns what it did, for the test log. */
export function ensureBuild(): Promise<string> {
  return withBuildLock(`kiln-build-${createHash('sha1').update(repoRoot).digest('hex').slice(0, 12)}`, async () => {
    const reason = staleReason();
    if (reason === undefined) return 'dist/ is up to date';
    await runBuild();
    return `built dist/ (${reason})`;
  });
}
