// The bench's CPU table: speed-ups at equal thread counts and their geometric means, checked on
// hand-made results whose ratios are worked out here by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchResult } from '../../bench/page/measure.ts';
import type { RuntimeName } from '../../bench/page/runtimes.ts';
import { renderCpuTable } from '../../bench/runner/cpu-table.ts';

function row(workload: string, runtime: RuntimeName, p50: number | null, note = ''): BenchResult {
  return { workload, runtime, status: p50 === null ? 'n/a' : 'ok', coldStartMs: 1, warmP50Ms: p50, warmP95Ms: p50, bytesDownloaded: 1, maxError: 0, referenceMaxAbs: 1, fetchMs: 0, createMs: 0, firstRunMs: 1, throughputBatch1: null, throughputBatch32: null, peakGpuBytes: null, runtimeBytes: null, modelBytes: null, gflops: null, runs: 1, samplesMs: [], reference: '', note };
}

test('browser rows: 1-thread and default-thread speed-ups, geometric means, a pair below 1.0 is named', () => {
  const results = [
    row('a', 'kiln-wasm', 1, 'wasm (SIMD128, 2 threads)'), row('a', 'kiln-wasm-1t', 2, 'wasm (SIMD128, 1 thread)'), row('a', 'ort-wasm', 4, '2 thread(s)'), row('a', 'ort-wasm-1t', 8, '1 thread(s)'),
    row('b', 'kiln-wasm', 4), row('b', 'kiln-wasm-1t', 4), row('b', 'ort-wasm', 2), row('b', 'ort-wasm-1t', 2), row('b', 'kiln-js', 9),
  ];
  const md = renderCpuTable(results).join('\n');
  // a: 1 thread 8 / 2 = 4x, default 4 / 1 = 4x; b: 2 / 4 = 0.5x both; geometric mean sqrt(4 * 0.5) = 1.41x.
  assert.match(md, /\| a \| 1\.00 \| 2\.00 \| — \| 4\.00 \| 8\.00 \| 4\.00x \| 4\.00x \|/);
  assert.match(md, /\| b \| 4\.00 \| 4\.00 \| 9\.00 \| 2\.00 \| 2\.00 \| 0\.50x \(below 1\.0\) \| 0\.50x \(below 1\.0\) \|/);
  assert.match(md, /geometric mean\*\* \|.*\| 1\.41x \| 1\.41x \|/);
  assert.match(md, /kiln-wasm \(2t\)/);
  assert.match(md, /every workload >= 1\.0x: no \(2 pairs below\); geometric mean at 1 thread >= 1\.3x: yes/);
});

test('Node rows: onnxruntime-web has one 1-thread row, which is the 1-thread peer; no default-thread column', () => {
  const results = [row('a', 'kiln-wasm-1t', 1), row('a', 'ort-wasm', 1.5), row('a', 'ort-wasm-1t', null), row('a', 'tfjs-wasm', 3)];
  const md = renderCpuTable(results).join('\n');
  assert.match(md, /kiln-wasm-1t vs ort-wasm\)/);
  assert.match(md, /\| a \| 1\.00 \| 1\.50 \| 3\.00 \| 1\.50x \|$/m);
  assert.doesNotMatch(md, /default threads \|/);
  assert.match(md, /geometric mean at 1 thread >= 1\.3x: yes/);
});

test('no Kiln wasm rows: no table', () => {
  assert.deepEqual(renderCpuTable([row('a', 'ort-wasm', 1)]), []);
});

test('the multi-thread pair is named by its thread count when both ran on it, and flagged when they did not', () => {
  const same = renderCpuTable([row('a', 'kiln-wasm', 1, 'wasm (SIMD128, 2 threads)'), row('a', 'kiln-wasm-1t', 2, 'wasm (SIMD128, 1 thread)'), row('a', 'ort-wasm', 3, '2 thread(s), proxy off'), row('a', 'ort-wasm-1t', 4, '1 thread(s), proxy off')]).join('\n');
  assert.match(same, /\| speed-up 1 thread \| speed-up 2 threads \|/);
  assert.match(same, /\| a \| 1\.00 \| 2\.00 \| 3\.00 \| 4\.00 \| 2\.00x \| 3\.00x \|/);
  // Kiln's pool did not start (it says so and runs 1 thread): the pair is not 2 against 2.
  const fellBack = renderCpuTable([row('a', 'kiln-wasm', 1, 'wasm (SIMD128, 1 thread: the pool did not start: ...)'), row('a', 'kiln-wasm-1t', 2, 'wasm (SIMD128, 1 thread)'), row('a', 'ort-wasm', 3, '2 thread(s), proxy off'), row('a', 'ort-wasm-1t', 4, '1 thread(s), proxy off')]).join('\n');
  assert.match(fellBack, /speed-up default threads \(kiln-wasm 1t, ort-wasm 2t: not the same count\) \|/);
});

test('the thread check names the Workers each runtime started and a threaded row that started none', () => {
  const results = [row('a', 'kiln-wasm', 1, 'wasm (SIMD128, 2 threads)'), row('a', 'kiln-wasm-1t', 2, 'wasm (SIMD128, 1 thread)'), row('a', 'ort-wasm', 3, '2 thread(s), proxy off'), row('a', 'ort-wasm-1t', 4, '1 thread(s), proxy off')];
  const md = renderCpuTable(results, { crossOriginIsolated: true, workers: { 'ort-wasm': { 'em-pthread': 1 }, 'kiln-wasm-1t': {} } }).join('\n');
  assert.match(md, /cross-origin isolated \(SharedArrayBuffer\): true\./);
  assert.match(md, /- ort-wasm: 2 thread\(s\) in its notes; Workers started over the run: 1 'em-pthread'; threaded$/m);
  assert.match(md, /- kiln-wasm: 2 thread\(s\) in its notes; Workers started over the run: none; NOT threaded \(no Worker started\)$/m);
  assert.match(md, /- kiln-wasm-1t: 1 thread\(s\) in its notes; Workers started over the run: none; single-threaded$/m);
  // Node reports have no census: no check is printed rather than a wrong one.
  assert.doesNotMatch(renderCpuTable(results, { crossOriginIsolated: false }).join('\n'), /Threads, checked/);
});

test('the second-thread table: 2t - 1t p50 and the cost per pool dispatch, only where dispatches were counted', () => {
  const k2 = { ...row('a', 'kiln-wasm', 5, 'wasm (SIMD128, 2 threads)'), wakesPerRun: 4 };
  const results = [k2, row('a', 'kiln-wasm-1t', 3, 'wasm (SIMD128, 1 thread)'), row('a', 'ort-wasm', 2, '2 thread(s)'), row('a', 'ort-wasm-1t', 2.5, '1 thread(s)')];
  // Kiln 5 - 3 = +2 ms over 4 dispatches = +0.5 ms each; ort 2 - 2.5 = -0.5 ms.
  assert.match(renderCpuTable(results).join('\n'), /\| a \| 4\.0 \| \+2\.00 \| \+0\.50 \| -0\.50 \|/);
  assert.doesNotMatch(renderCpuTable(results.slice(1)).join('\n'), /Second thread/);
});
