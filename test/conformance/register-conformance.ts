// Runs every ONNX conformance case whose ops Kiln supports, on one backend; the *.test.ts files
// beside this one split the work (WebGPU into shards so each file stays well under its time limit).
// Cases with unsupported ops are not failures: docs/ops.md lists them (scripts/op-coverage.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { InferenceSession } from '../../runtime/node.ts';
import type { KernelTuning } from '../../runtime/backends/webgpu/kernel-tuning.ts';
import { compareTensors } from '../helpers/compare.ts';
import { knownCpuFallback, knownFailure } from '../known-failures.ts';
import { listCases, loadCase, unsupportedReason, type ConformanceCase } from './conformance-cases.ts';
import { definitions as conv } from '../../kernels/conv/op.ts';
import { definitions as convTranspose } from '../../kernels/conv-transpose/op.ts';
import { definitions as convInteger } from '../../kernels/conv-integer/op.ts';
import { definitions as qlinearConv } from '../../kernels/qlinear-conv/op.ts';
import { definitions as gemm } from '../../kernels/gemm/op.ts';
import { definitions as matmul } from '../../kernels/matmul/op.ts';
import { definitions as matmulNBits } from '../../kernels/matmul-nbits/op.ts';
import { definitions as normalization } from '../../kernels/normalization/op.ts';
import { definitions as pool } from '../../kernels/pool/op.ts';
import { definitions as quantizeLinear } from '../../kernels/quantize-linear/op.ts';
import { definitions as reduce } from '../../kernels/reduce/op.ts';
import { definitions as softmax } from '../../kernels/softmax/op.ts';
import { toleranceFor } from './tolerances.ts';
import { HARDWARE_FORMS_SHARE, inSample } from '../helpers/sampling.ts';

/**
 * Op families whose WebGPU kernels take another form on hardware adapters (their lowerings read
 * `caps.software`, directly or through kernels/webgpu/tiled-matmul.ts or wg-reduce.ts: grep
 * `software` in kernels/). Only cases using them differ under 'hardware' tuning, so only those run twice.
 */
const TUNED_OPS = new Set([...conv, ...convTranspose, ...convInteger, ...qlinearConv, ...gemm, ...matmul, ...matmulNBits, ...normalization, ...pool, ...quantizeLinear, ...reduce, ...softmax].map((d) => d.opType));

function usesTunedOps(c: ConformanceCase): boolean {
  return loadCase(c).model.graph.nodes.some((n) => TUNED_OPS.has(n.opType));
}

/**
 * On WebGPU a node may run on the CPU only when its op has no WebGPU kernel or one of its tensors has
 * a type the GPU cannot store (docs/ops.md lists both); a kernel that declines a case is a silent
 * fallback and fails the case, unless test/known-failures.ts lists it (knownCpuFallback).
 * `tuning: 'hardware'` runs the kernel forms real GPUs get, which SwiftShader's 'auto' never picks.
 */
export function registerConformance(backend: 'js' | 'wasm' | 'webgpu', shard = { index: 0, count: 1 }, tuning: KernelTuning = 'auto'): void {
  const filter = process.env.KILN_CONFORMANCE_FILTER ? new RegExp(process.env.KILN_CONFORMANCE_FILTER) : undefined;
  const cases = listCases().filter((c) => !filter || filter.test(`${c.suite}/${c.name}`));
  const runnable = cases.filter((c) => unsupportedReason(c) === undefined && (tuning !== 'hardware' || usesTunedOps(c)));
  // 'hardware' forms: a seeded share of the cases each run (test/helpers/sampling.ts), all under KILN_TEST_FULL=1.
  const sampled = tuning === 'hardware' ? runnable.filter((c) => inSample('hardware-forms', `${c.suite}/${c.name}`, HARDWARE_FORMS_SHARE)) : runnable;
  const mine = sampled.filter((_, i) => i % shard.count === shard.index);
  after(() => console.log(`conformance on ${backend}${tuning === 'auto' ? '' : ` (${tuning})`}: ${runnable.length} of ${cases.length} cases use only supported ops${sampled === runnable ? '' : `, ${sampled.length} sampled this run`}; shard ${shard.index + 1}/${shard.count} ran ${mine.length}`));
  const label = `${backend}${tuning === 'auto' ? '' : ` [${tuning} kernel forms]`}`;
  describe(`ONNX conformance on ${label}${shard.count > 1 ? ` (shard ${shard.index + 1}/${shard.count})` : ''}`, () => {
    for (const c of mine) {
      const id = `${c.suite}/${c.name}`;
      const excuse = knownFailure(backend, id);
      test(id, { skip: excuse, timeout: 120_000 }, async () => {
        const { modelBytes, dataSets } = loadCase(c);
        const provider = backend === 'webgpu' ? { name: backend, kernelTuning: tuning } : backend;
        const session = await InferenceSession.create(modelBytes, { executionProviders: [provider] });
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
            if (backend === 'webgpu') {
              const declined = (session.lastPlacement?.steps ?? []).filter((p) => p.reason === 'declined').map((p) => `${p.opType} '${p.node}'`);
              if (declined.length > 0 && !knownCpuFallback(id, declined)) assert.deepEqual(declined, [], 'nodes whose WebGPU kernel declined this case ran on the CPU');
            }
          }
        } finally {
          await session.release();
        }
      });
    }
  });
}
