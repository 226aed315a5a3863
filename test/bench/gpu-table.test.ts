// The bench's WebGPU table: speed-ups over the WebGPU peers and their geometric mean over the
// whole-model workloads only, checked on hand-made results whose ratios are worked out here by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BenchResult } from '../../bench/page/measure.ts';
import type { RuntimeName } from '../../bench/page/runtimes.ts';
import { renderGpuTable } from '../../bench/runner/gpu-table.ts';

function row(workload: string, runtime: RuntimeName, p50: number | null): BenchResult {
  return { workload, runtime, status: p50 === null ? 'n/a' : 'ok', coldStartMs: 1, warmP50Ms: p50, warmP95Ms: p50, bytesDownloaded: 1, maxError: 0, referenceMaxAbs: 1, fetchMs: 0, createMs: 0, firstRunMs: 1, throughputBatch1: null, throughputBatch32: null, peakGpuBytes: null, runtimeBytes: null, modelBytes: null, gflops: null, runs: 1, samplesMs: [], reference: '', note: '' };
}

test('speed-ups per workload; the geometric mean counts whole models only; the 15x target is judged on it', () => {
  const results = [
    row('matmul-256', 'kiln-webgpu', 1), row('matmul-256', 'ort-webgpu', 100),
    row('bert', 'kiln-webgpu', 2), row('bert', 'ort-webgpu', 20), row('bert', 'tfjs-webgpu', 8),
    row('ocr-cls', 'kiln-webgpu', 1), row('ocr-cls', 'ort-webgpu', 40), row('ocr-cls', 'tfjs-webgpu', null),
  ];
  const md = renderGpuTable(results).join('\n');
  assert.match(md, /\| matmul-256 \(micro\) \| 1\.00 \| 100\.00 \| — \| 100\.00x \| — \|/);
  assert.match(md, /\| bert \| 2\.00 \| 20\.00 \| 8\.00 \| 10\.00x \| 4\.00x \|/);
  assert.match(md, /\| ocr-cls \| 1\.00 \| 40\.00 \| — \| 40\.00x \| — \|/);
  // sqrt(10 * 40) = 20x over the two models; the micro workload's 100x is left out.
  assert.match(md, /geometric mean, whole models\*\* \|.*\| 20\.00x \(2\) \| 4\.00x \(1\) \|/);
  assert.match(md, /Met: geometric mean vs onnxruntime-web WebGPU >= 15x: yes\./);
  const slower = renderGpuTable([row('bert', 'kiln-webgpu', 2), row('bert', 'ort-webgpu', 20)]).join('\n');
  assert.match(slower, /10\.00x \(1\)/);
  assert.match(slower, />= 15x: no\./);
});

test('no table without Kiln WebGPU and a WebGPU peer', () => {
  assert.deepEqual(renderGpuTable([row('bert', 'kiln-webgpu', 1)]), []);
  assert.deepEqual(renderGpuTable([row('bert', 'ort-webgpu', 1)]), []);
});
