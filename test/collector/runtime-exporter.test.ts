// What the runtime's OTLP encoder (runtime/telemetry/export) actually produces is accepted and
// read back: runs, errors, latency percentiles against the recorded samples, cold start, drift.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ATTR } from '../../runtime/telemetry/otlp-schema.ts';
import { attributes, encodeMetrics, packRequests } from '../../runtime/telemetry/export/otlp-encode.ts';
import { ExpHistogram } from '../../runtime/telemetry/latency/exp-histogram.ts';
import type { DriftWindowResult } from '../../runtime/telemetry/telemetry-api.ts';
import { start, WRITE_KEY } from './collector-helpers.ts';
import { post, randomLatencies } from './otlp-fixtures.ts';

test('batches from the runtime encoder are stored and read back', async () => {
  const c = await start({ apiKeys: [WRITE_KEY] });
  try {
    const now = Date.now();
    const samples = randomLatencies(500, 12);
    const total = new ExpHistogram();
    for (const v of samples) total.record(v);
    const gpu = new ExpHistogram();
    for (const v of randomLatencies(500, 3)) gpu.record(v);
    const window: DriftWindowResult = {
      window: 1, samples: 200, alert: true, threshold: 0.01, at: new Date(now).toISOString(),
      features: [
        { name: 'sepal_length', type: 'numeric', samples: 200, psi: 0.45, js: 0.3, wasserstein: 0.6, pValue: 1e-6, drifted: true },
        { name: 'class', type: 'categorical', samples: 200, psi: 0.01, js: 0.02, pValue: 0.7, drifted: false },
      ],
    };
    const metrics = encodeMetrics({
      latency: { startMs: now - 30_000, runs: new Map([['total', total.toData()], ['gpu', gpu.toData()]]), coldStart: { fetch: 120, parse: 8, compile: 300 }, runCount: 500, errors: new Map([['INPUT_MISMATCH', 2]]) },
      windows: [window],
      dropped: 0,
      endMs: now,
    });
    const resource = attributes({ [ATTR.serviceName]: 'app', [ATTR.modelName]: 'iris', [ATTR.modelVersion]: '5', [ATTR.backend]: 'cpu', [ATTR.deviceClass]: 'cpu' });
    const bodies = packRequests(resource, metrics, 2048); // small bodies: several requests
    assert.ok(bodies.length > 1);
    for (const body of bodies) {
      const r = await post(c.url, body, { key: WRITE_KEY, batchId: randomUUID(), gzip: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const o = (await (await fetch(`${c.url}/api/overview?model=iris`)).json()) as { runs: number; runErrors: number; driftAlerts: number };
    assert.deepEqual([o.runs, o.runErrors, o.driftAlerts], [500, 2, 1]);
    const lat = (await (await fetch(`${c.url}/api/latency?model=iris&phase=total`)).json()) as { overall: { count: number; p50: number; p99: number } };
    assert.equal(lat.overall.count, 500);
    const sorted = [...samples].sort((a, b) => a - b);
    const base = 2 ** (2 ** -total.toData().scale); // the encoder may have lowered the scale to fit
    const err = (base - 1) / (base + 1) + 1e-9;
    for (const [q, got] of [[0.5, lat.overall.p50], [0.99, lat.overall.p99]] as const) {
      const exact = sorted[Math.round(q * (sorted.length - 1))]!;
      assert.ok(Math.abs(got - exact) <= err * exact, `p${q * 100}: ${got} vs ${exact}`);
    }
    const cold = (await (await fetch(`${c.url}/api/latency?model=iris&metric=coldStart&phase=compile`)).json()) as { overall: { count: number; p50: number } };
    assert.equal(cold.overall.count, 1);
    assert.equal(cold.overall.p50, 300); // one sample: min = max
    const drift = (await (await fetch(`${c.url}/api/drift?model=iris`)).json()) as { alertCount: number; features: { feature: string; alerting: boolean; tests: { test: string }[] }[] };
    assert.equal(drift.alertCount, 1);
    assert.deepEqual(drift.features.map((f) => [f.feature, f.alerting, f.tests.map((t) => t.test)]), [['sepal_length', true, ['js', 'psi', 'wasserstein']], ['class', false, ['js', 'psi']]]);
  } finally {
    await c.close();
  }
});
