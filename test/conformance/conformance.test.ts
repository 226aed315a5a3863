// Runs every ONNX conformance case whose ops Kiln supports, on the CPU and WebGPU backends.
// Cases with unsupported ops are not failures: docs/ops.md lists them (scripts/op-coverage.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { knownFailure } from '../known-failures.ts';
import { listCases, loadCase, unsupportedReason } from './conformance-cases.ts';
import { toleranceFor } from './tolerances.ts';

const backends = (process.env.KILN_BACKENDS ?? 'cpu,webgpu').split(',') as ('cpu' | 'webgpu')[];
const filter = process.env.KILN_CONFORMANCE_FILTER ? new RegExp(process.env.KILN_CONFORMANCE_FILTER) : undefined;
const cases = listCases().filter((c) => !filter || filter.test(`${c.suite}/${c.name}`));
const runnable = cases.filter((c) => unsupportedReason(c) === undefined);

after(() => console.log(`conformance: ${runnable.length} of ${cases.length} cases use only supported ops`));

for (const backend of backends) {
  describe(`ONNX conformance on ${backend}`, () => {
    for (const c of runnable) {
      const id = `${c.suite}/${c.name}`;
      const excuse = knownFailure(backend, id);
      test(id, { skip: excuse }, async () => {
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
