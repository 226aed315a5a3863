// Ingest speed: starts `kiln collect` in its own process (so the simulated clients do not share
// its event loop), drives it with simulated clients over loopback and prints batches/s and the
// client-side ingest latency percentiles.
//   node --import tsx collector/load/bench-ingest.ts [--clients 32] [--batches 40] [--durability full|normal]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, runLoad } from './simulate.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const clients = Number(arg('clients', '32'));
const perClient = Number(arg('batches', '40'));
const durability = arg('durability', 'full');
const key = 'bench-key-0123456789';
const kiln = fileURLToPath(new URL('../../trainer-node/cli/kiln.ts', import.meta.url));
const db = join(mkdtempSync(join(tmpdir(), 'kiln-bench-')), 'bench.db');

const child = spawn(process.execPath, ['--import', 'tsx', kiln, 'collect', '--port', '0', '--db', db, '--api-key', key, '--rate-limit', '0', '--durability', durability], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.on('exit', (code) => reject(new Error(`kiln collect exited with ${code}`)));
});

try {
  const r = await runLoad({ baseUrl: url, clients, batchesPerClient: perClient, keys: [key], malformedShare: 0, badKeyShare: 0, resendShare: 0 });
  const ok = r.batches.filter((b) => b.status === 200).length;
  console.log(`collector ingest, ${clients} clients x ${perClient} batches (${r.batches[0]?.points ?? 0} points each), durability ${durability}:`);
  console.log(`  ${ok}/${r.batches.length} stored, ${((ok / r.elapsedMs) * 1000).toFixed(0)} batches/s`);
  console.log(`  latency p50 ${percentile(r.latenciesMs, 0.5).toFixed(1)} ms, p90 ${percentile(r.latenciesMs, 0.9).toFixed(1)} ms, p99 ${percentile(r.latenciesMs, 0.99).toFixed(1)} ms`);
} finally {
  child.kill('SIGTERM');
}
