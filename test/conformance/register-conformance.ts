// Runs every ONNX conformance case whose ops Kiln supports, on one backend; the *.test.ts files
// beside this one split the work (WebGPU into shards so each file stays well under its time limit).
// Cases with unsupported ops are not failures: docs/ops.md lists them (scripts/op-coverage.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { knownFailure } from '../known-failures.ts';
import { listCases, loadCase, unsupportedReason } from './conformance-cases.ts';
import { toleranceFor } from './tolerances.ts';

export function registerConformance(backend: 'cpu' | 'webgpu', shard = { index: 0, count: 1 }): void {
  const filter = process.env.KILN_CONFORMANCE_FILTER ? new RegExp(process.env.KILN_CONFORMANCE_FILTER) : undefined;
  const cases = listCases().filter((c) => !filter || filter.test(`${c.suite}/${c.name}`));
  const runnable = cases.filter((c) => unsupportedReason(c) === undefined);
  const mine = runnable.filter((_, i) => i % shard.count === shard.index);
  after(() => console.log(`conformance on ${backend}: ${runnable.length} of ${cases.length} cases use only supported ops; shard ${shard.index + 1}/${shard.count} ran ${mine.length}`));
  describe(`ONNX conformance on ${backend}${shard.count > 1 ? ` (shard ${shard.index + 1}/${shard.count})` : ''}`, () => {
    for (const c of mine) {
      const id = `${c.suite}/${c.name}`;
      const excuse = knownFailure(backend, id);
      test(id, { skip: excuse, timeout: 120_000 }, async () => {
        const { modelBytes, dataSets } = loadCase(c);
        const session = await InferenceSession.create(modelBytes, { executionProviders: [backend] });
        assert.equal(session.executionProvider, backend, 'the requested backend must run it');
        try {
          for (const ds of dataSets) {
            const out = await session.run(ds.inputs);
            for (const [name, want] of Object.entries(ds.outputs)) {
              const got = out[name];
              assert.ok(got, `output '${name}' missing`);
              const problem = compareTensors(got, want, toleranceFor(c.name, want.type, backend));
              assert.equal(problem, undefined, `output '${name}': ${problem}`);
            }
          }
        } finally {
          await session.release();
        }
      });
    }
  });
}
