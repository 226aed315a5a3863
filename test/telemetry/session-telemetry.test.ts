import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { getGpu } from '../../runtime/backends/webgpu/gpu-provider.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';
import { buildDriftReference } from '../../runtime/telemetry/drift/build-reference.ts';
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { DriftAlert } from '../../runtime/telemetry/telemetry-api.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const seed = `seed ${rng.seed}`;
const F = 4;
const C = 3;
const weights = Float32Array.from({ length: F * C }, () => rng.normal());

/** logits = x W: a 4-feature, 3-class linear classifier. */
const model = encodeOnnxModel({
  nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['logits'] }],
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', F] }],
  outputs: [{ name: 'logits', dtype: 'float32' }],
  initializers: { w: new Tensor('float32', weights, [F, C]) },
});

const rows = (n: number, shift = 0): Tensor<'float32'> => new Tensor('float32', Float32Array.from({ length: n * F }, (_, i) => rng.normal() + (i % F === 0 ? shift : 0)), [n, F]);

/** The same logits computed in JS (the reference is built without the runtime). */
function logits(x: Tensor<'float32'>): Tensor<'float32'> {
  const n = x.dims[0]!;
  const out = new Float32Array(n * C);
  for (let s = 0; s < n; s++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) out[s * C + c]! += x.data[s * F + f]! * weights[f * C + c]!;
  return new Tensor('float32', out, [n, C]);
}

async function collector(): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

interface Metric { name: string; gauge?: { dataPoints: { attributes: { key: string; value: { stringValue?: string; boolValue?: boolean } }[] }[] }; sum?: { dataPoints: { asInt: string }[] } }
const metricsOf = (bodies: unknown[]): Metric[] => bodies.flatMap((b) => (b as { resourceMetrics: { scopeMetrics: { metrics: Metric[] }[] }[] }).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)));

test(`cpu: percentiles, cold start, a drift alert on shifted input (callback + event), all exported (${seed})`, async () => {
  const x = rows(3000);
  const driftReference = buildDriftReference({ inputs: { x }, outputs: { logits: logits(x) } }, { origin: 'test' });
  const srv = await collector();
  const alerts: DriftAlert[] = [];
  const session = await InferenceSession.create(model, {
    executionProviders: ['cpu'],
    telemetry: { endpoint: srv.url, apiKey: 'k', driftReference, drift: { windowSize: 100, maxOverhead: 1 }, modelName: 'linear', modelVersion: '7' },
    onDriftAlert: (a) => alerts.push(a),
  });
  try {
    assert.equal(session.telemetry.enabled, true);
    const events: DriftAlert[] = [];
    session.telemetry.addEventListener('driftalert', (e) => events.push((e as CustomEvent<DriftAlert>).detail));
    for (let i = 0; i < 10; i++) {
      const out = await session.run({ x: rows(10) });
      assert.deepEqual(out.logits!.dims, [10, C]);
    }
    let snap = await session.telemetry.snapshot();
    assert.equal(snap.runs, 10);
    assert.equal(snap.latency.total!.count, 10);
    assert.ok(snap.latency.total!.p50 > 0 && snap.latency.total!.p50 <= snap.latency.total!.p99 && snap.latency.total!.p99 <= snap.latency.total!.max * 1.011);
    assert.ok(snap.coldStart.fetch! >= 0 && snap.coldStart.parse! >= 0 && snap.coldStart.total! >= snap.coldStart.parse! && snap.coldStart.first_run! > 0);
    assert.equal(snap.drift!.windows, 1);
    // The reference-like first window false-alarms with probability <= alpha (1%): such an alert
    // is allowed, and the shifted traffic's alert is the one after it.
    await session.telemetry.snapshot(); // scores the first window now
    const falseAlarms = alerts.length;
    assert.ok(falseAlarms <= 1);
    // A 2-std shift of feature 0 (and the logits it drives) alarms within two windows (a miss of a
    // whole 100-sample window of it is far below 1e-6: its chi-square p-value is ~1e-20).
    for (let i = 0; i < 20 && alerts.length === falseAlarms; i++) {
      await session.run({ x: rows(10, 2) });
      await new Promise((r) => setTimeout(r, 0)); // full windows are scored after the run answers (a timer queued before this one)
    }
    assert.equal(alerts.length, falseAlarms + 1);
    assert.deepEqual(events, alerts);
    assert.ok(alerts[falseAlarms]!.features.includes('x[0]'), alerts[falseAlarms]!.features.join());
    await assert.rejects(session.run({ x: new Tensor('float32', new Float32Array(3), [1, 3]) }), /INPUT_MISMATCH/);
    snap = await session.telemetry.snapshot();
    assert.equal(snap.errors, 1);
    const flushed = await session.telemetry.flush();
    assert.equal(flushed.queued, 0);
    const metrics = metricsOf(srv.bodies);
    const names = new Set(metrics.map((m) => m.name));
    for (const n of [METRIC.runLatency, METRIC.coldStart, METRIC.runs, METRIC.runErrors, METRIC.driftScore, METRIC.driftAlerts]) assert.ok(names.has(n), `${n} exported`);
    const alerted = metrics.filter((m) => m.name === METRIC.driftScore).flatMap((m) => m.gauge!.dataPoints).filter((p) => p.attributes.some((a) => a.key === ATTR.driftAlert && a.value.boolValue === true));
    assert.ok(alerted.some((p) => p.attributes.some((a) => a.key === ATTR.feature && a.value.stringValue === 'x[0]')));
    const resource = (srv.bodies[0] as { resourceMetrics: { resource: { attributes: { key: string; value: { stringValue: string } }[] } }[] }).resourceMetrics[0]!.resource.attributes;
    const attr = (k: string): string | undefined => resource.find((a) => a.key === k)?.value.stringValue;
    assert.equal(attr(ATTR.modelName), 'linear');
    assert.equal(attr(ATTR.modelVersion), '7');
    assert.equal(attr(ATTR.backend), 'wasm', "'cpu' in executionProviders starts the wasm backend");
    assert.equal(attr(ATTR.deviceClass), 'cpu');
    const runs = metrics.filter((m) => m.name === METRIC.runs).reduce((n, m) => n + Number(m.sum!.dataPoints[0]!.asInt), 0);
    assert.equal(runs, snap.runs, 'delta sums add up to the runs made');
  } finally {
    await session.release();
    await srv.close();
  }
});

test('webgpu: runs are split into queue, gpu and readback; cold start has upload and compile', async () => {
  const session = await InferenceSession.create(model, { executionProviders: ['webgpu'], telemetry: {} });
  try {
    for (let i = 0; i < 3; i++) await session.run({ x: rows(8) });
    const snap = await session.telemetry.snapshot();
    for (const phase of ['total', 'queue', 'gpu', 'readback'] as const) assert.equal(snap.latency[phase]?.count, 3, phase);
    assert.ok(snap.latency.gpu!.p50 <= snap.latency.total!.max);
    // Timestamp queries wherever the adapter offers them (SwiftShader in Dawn does).
    const adapter = await getGpu()!.requestAdapter({ powerPreference: 'high-performance' });
    assert.equal(snap.gpuTiming, adapter?.features.has('timestamp-query') ? 'timestamp-query' : 'submit-to-done');
    assert.ok(snap.latency.gpu!.max > 0, 'the passes took some time');
    assert.ok(snap.coldStart.upload! >= 0 && snap.coldStart.compile! >= 0, JSON.stringify(snap.coldStart));
    assert.equal(snap.export.active, false); // no endpoint: nothing leaves the device
    assert.equal(snap.drift, undefined); // an ONNX model without a reference
  } finally {
    await session.release();
  }
});

test('telemetry is off by default; bad telemetry options fail before loading', async () => {
  const session = await InferenceSession.create(model, { executionProviders: ['cpu'] });
  await session.run({ x: rows(2) });
  assert.equal(session.telemetry.enabled, false);
  assert.equal((await session.telemetry.snapshot()).runs, 0);
  assert.deepEqual(await session.telemetry.flush(), { sent: 0, queued: 0, dropped: 0 });
  await session.release();
  const invalid = (e: unknown, re: RegExp): boolean => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && re.test(e.message);
  await assert.rejects(InferenceSession.create('/nonexistent/model.onnx', { telemetry: { endpoint: 'ftp://x' } }), (e) => invalid(e, /endpoint/));
  await assert.rejects(InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { sampleRate: 2 } }), (e) => invalid(e, /sampleRate/));
  await assert.rejects(InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { drift: { windowSize: 1 }, driftReference: buildDriftReference({ inputs: { x: rows(50) }, outputs: {} }, { origin: 't' }) } }), (e) => invalid(e, /windowSize/));
});
