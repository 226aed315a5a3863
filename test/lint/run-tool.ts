// Runs a project tool (tsc, eslint) from node_modules/.bin in the repository root and returns its
// exit code and output, so a lint test can fail with exactly what the tool said.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.ts';

export interface ToolResult {
  readonly code: number | null;
  readonly output: string;
  readonly ms: number;
}

export function runTool(bin: string, args: readonly string[]): Promise<ToolResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules/.bin', bin), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}
