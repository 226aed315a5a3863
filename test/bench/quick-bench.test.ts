// `npm run bench -- --quick` in CI: proves the bench runs end to end in Chromium and writes a
// well-formed report with a result from every runtime on every workload it ran. No speed assertions
// (speed is what the bench reports, not what a test checks); outputs must agree across runtimes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BenchResult } from '../../bench/page/measure.ts';
import { RUNTIMES } from '../../bench/page/runtimes.ts';
import type { BenchReport } from '../../bench/runner/report.ts';
import { repoRoot } from '../helpers/paths.ts';

const out = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
after(() => rmSync(out, { recursive: true, force: true }));

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--out', out], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A hang guard, far above its 83-87 s in CI with two test files at a time (it has grown with the
    // 1- and 2-thread CPU runtimes): a hung page must fail the test, not CI.
    const timer = setTimeout(() => child.kill('SIGKILL'), 480_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const finiteAtLeast = (v: number | null, min: number): boolean => typeof v === 'number' && Number.isFinite(v) && v >= min;

test('the quick bench writes a well-formed report with every runtime on every workload', { timeout: 540_000 }, async () => {
  const { code, stdout, stderr } = await runQuickBench();
  assert.equal(code, 0, `bench exited with ${code}\n${stderr.slice(-3000)}\n${stdout.slice(-3000)}`);
  const jsonPath = /wrote (\S+\.json)/.exec(stdout)?.[1];
  assert.ok(jsonPath, `the bench must print where it wrote its JSON:\n${stdout.slice(-2000)}`);
  console.log(`quick bench JSON: ${jsonPath}`);
  assert.ok(existsSync(jsonPath) && jsonPath.startsWith(out), `${jsonPath} should exist under --out ${out}`);
  const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchReport;

  for (const k of ['machine', 'browser', 'adapter', 'date'] as const) assert.equal(typeof report[k], 'string', `${k} should be a string`);
  assert.ok(!Number.isNaN(Date.parse(report.date)), `date '${report.date}' should be ISO 8601`);
  assert.ok(Array.isArray(report.results) && report.results.length > 0, 'results should be a non-empty array');

  const workloads = [...new Set(report.results.map((r) => r.workload))];
  assert.ok(workloads.some((w) => w.startsWith('matmul')) && workloads.some((w) => w.startsWith('conv')) && workloads.some((w) => w.startsWith('bert')), `quick workloads: ${workloads.join(', ')}`);
  const failures: string[] = [];
  for (const w of workloads) {
    for (const rt of RUNTIMES) {
      const rows = report.results.filter((r) => r.workload === w && r.runtime === rt);
      if (rows.length !== 1) {
        failures.push(`${w} ${rt}: ${rows.length} results, expected 1`);
        continue;
      }
      const r: BenchResult = rows[0]!;
      if (r.status === 'n/a') {
        if (!r.note) failures.push(`${w} ${rt}: n/a without a reason`);
        continue;
      }
      if (r.status !== 'ok') {
        failures.push(`${w} ${rt}: ${r.status}: ${r.note}`);
        continue;
      }
      if (!finiteAtLeast(r.coldStartMs, 0) || !finiteAtLeast(r.warmP50Ms, 0) || !finiteAtLeast(r.warmP95Ms, r.warmP50Ms ?? 0)) failures.push(`${w} ${rt}: bad latencies ${r.coldStartMs} / ${r.warmP50Ms} / ${r.warmP95Ms}`);
      if (Math.abs((r.fetchMs ?? NaN) + (r.createMs ?? NaN) + (r.firstRunMs ?? NaN) - r.coldStartMs!) > 1e-6) failures.push(`${w} ${rt}: cold start is not fetch + create + first run`);
      if (!Number.isInteger(r.bytesDownloaded) || r.bytesDownloaded! <= 0) failures.push(`${w} ${rt}: bytesDownloaded ${r.bytesDownloaded}`);
      if (r.runs < 1 || r.samplesMs.length !== r.runs) failures.push(`${w} ${rt}: ${r.runs} runs, ${r.samplesMs.length} samples`);
      // Float workloads: every runtime computes the same function of the same inputs. A quantized
      // model without a float variant is compared with onnxruntime running the same QDQ model with
      // integer kernels, where Kiln accumulates in f32: an activation within f32 rounding of a
      // rounding boundary lands one 8-bit step (1/255 of its range) away, and a few such flips reach
      // the outputs (docs/quantization.md), so there the bound is 2% of the output's magnitude.
      const quantizedVsQuantized = /same quantized model/.test(r.reference);
      const bound = quantizedVsQuantized ? 0.02 * (r.referenceMaxAbs ?? NaN) : 1e-3;
      if (!finiteAtLeast(r.maxError, 0) || !(r.maxError! <= bound)) failures.push(`${w} ${rt}: max error ${r.maxError} vs ${r.reference} (bound ${bound})`);
    }
  }
  assert.deepEqual(failures, []);

  // Telemetry on vs off (the telemetry part's overhead figure) on the whole-model workload, per Kiln backend.
  const tel = report.telemetryOverhead ?? [];
  for (const rt of ['kiln-webgpu', 'kiln-wasm'] as const) {
    const t = tel.find((x) => x.workload.startsWith('bert') && x.runtime === rt);
    assert.ok(t && !t.error && finiteAtLeast(t.p50OffMs, 0) && finiteAtLeast(t.p50OnMs, 0) && t.runs > 0, `telemetry overhead for ${rt}: ${JSON.stringify(t)}`);
  }

  // What 'auto' chose on the whole-model workload, with the timings it chose by.
  const auto = (report.autoChoices ?? []).find((c) => c.workload.startsWith('bert'));
  assert.ok(auto && !auto.error && (auto.chosen === 'webgpu' || auto.chosen === 'wasm'), `auto choice: ${JSON.stringify(auto)}`);
  if (auto.reason === 'measured') assert.equal(auto.chosen, Object.entries(auto.medianMs ?? {}).sort(([, a], [, b]) => a - b)[0]?.[0], 'auto keeps the faster backend');

  // The multi-thread rows must really run on threads: the page cross-origin isolated, and each
  // threaded runtime started Workers of its own (a pool that fails to start falls back to 1 thread
  // quietly; Kiln's did until the bench server served its worker, bench/runner/dev-server.ts).
  assert.equal(report.crossOriginIsolated, true, 'the bench page must be cross-origin isolated');
  if (cpus().length >= 2) {
    const threads = (rt: string): string[] => report.results.filter((r) => r.runtime === rt && r.status === 'ok').map((r) => /(\d+) thread/.exec(r.note)?.[1] ?? `no count in '${r.note}'`);
    assert.deepEqual([...new Set(threads('kiln-wasm'))], [String(Math.min(4, cpus().length))], 'kiln-wasm thread counts');
    assert.deepEqual([...new Set(threads('ort-wasm'))], [String(Math.min(4, cpus().length))], 'ort-wasm thread counts (env.wasm.numThreads after init)');
    assert.ok((report.workers?.['kiln-wasm']?.['kiln-wasm-thread'] ?? 0) >= 1, `kiln-wasm started no pool worker: ${JSON.stringify(report.workers)}`);
    assert.ok((report.workers?.['ort-wasm']?.['em-pthread'] ?? 0) >= 1, `ort-wasm started no pthread worker: ${JSON.stringify(report.workers)}`);
  }

  const md = readFileSync(jsonPath.replace(/\.json$/, '.md'), 'utf8');
  for (const k of [report.machine, report.adapter]) assert.ok(md.includes(k), `the Markdown should name ${k}`);
  assert.match(md, /## CPU backends/);
  for (const r of report.results) assert.ok(md.includes(`| ${r.workload} | ${r.runtime} |`), `the Markdown should have a row for ${r.workload} ${r.runtime}`);
});
