// A fused activation (Conv/MatMul epilogue) must give exactly the standalone op's answer, on every
// backend: both read one table (kernels/elementwise-unary/unary-math.ts). The producer multiplies by
// an identity weight, which is exact, so the activation sees the very same float32 inputs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { ExecutionProvider } from '../../runtime/api/inference-session.ts';
import { FUSABLE_ACTIVATIONS, type FusedActivation } from '../../kernels/common/activation.ts';
import { testRng } from '../helpers/random.ts';

process.env.KILN_POISON_BUFFERS = '1';

const C = 8;
const ROWS = 64;
// the standalone op's attributes (or Clip's bound inputs) and the same values as fused params
const PARAMS: Readonly<Record<FusedActivation, { attrs?: Record<string, WriterAttribute>; fused: number[] }>> = {
  Relu: { fused: [] },
  LeakyRelu: { attrs: { alpha: 0.1 }, fused: [0.1] },
  Clip: { fused: [-0.5, 0.75] },
  Sigmoid: { fused: [] },
  Tanh: { fused: [] },
  HardSigmoid: { attrs: { alpha: 0.3, beta: 0.4 }, fused: [0.3, 0.4] },
  HardSwish: { fused: [] },
};

const rng = testRng(import.meta.url);
console.log(`fused-activation: seed ${rng.seed} (KILN_TEST_SEED=${rng.seed} replays it)`);

/** Finite values over the ranges where each activation bends or saturates (no NaN: 0 * NaN in the identity product would spread it). */
function input(dims: readonly number[]): Tensor<'float32'> {
  const n = dims.reduce((a, b) => a * b, 1);
  const extremes = [0, 1e-30, -1e-30, 3, -3, 6, -6, 40, -40, 100, -100];
  const data = Float32Array.from({ length: n }, (_, i) => (i < extremes.length ? extremes[i]! : (rng.uniform() * 2 - 1) * 12));
  return new Tensor('float32', data, dims);
}

function identity(dims: readonly number[]): Tensor<'float32'> {
  const w = new Float32Array(C * C);
  for (let i = 0; i < C; i++) w[i * C + i] = 1;
  return new Tensor('float32', w, dims);
}

type Producer = 'MatMul' | 'Conv';

function models(act: FusedActivation, producer: Producer): { fused: Uint8Array; standalone: Uint8Array; x: Tensor<'float32'> } {
  const xDims = producer === 'MatMul' ? [ROWS, C] : [1, C, 8, 8];
  const p = PARAMS[act];
  const io = { inputs: [{ name: 'x', dtype: 'float32' as const, dims: xDims }], outputs: [{ name: 'y', dtype: 'float32' as const }], opsets: { '': 17 } };
  const fusedAttrs: Record<string, WriterAttribute> = { kiln_activation: act, kiln_activation_params: { floats: p.fused } };
  const node: WriterNode = { opType: producer, domain: '', inputs: ['x', 'w'], outputs: ['y'], attrs: fusedAttrs };
  const w = identity(producer === 'MatMul' ? [C, C] : [C, C, 1, 1]);
  const fused = encodeOnnxModel({ ...io, nodes: [node], initializers: { w } });
  const clipBounds = act === 'Clip' ? { lo: new Tensor('float32', Float32Array.of(p.fused[0]!), []), hi: new Tensor('float32', Float32Array.of(p.fused[1]!), []) } : undefined;
  const standalone = encodeOnnxModel({
    ...io,
    nodes: [{ opType: act, domain: '', inputs: clipBounds ? ['x', 'lo', 'hi'] : ['x'], outputs: ['y'], attrs: p.attrs ?? {} }],
    initializers: clipBounds ?? {},
  });
  return { fused, standalone, x: input(xDims) };
}

async function runOn(provider: ExecutionProvider, bytes: Uint8Array, x: AnyTensor): Promise<{ y: Float32Array; cpuSteps: number }> {
  const session = await InferenceSession.create(bytes, { executionProviders: [provider] });
  try {
    const out = await session.run({ x });
    return { y: out.y!.data as Float32Array, cpuSteps: session.lastPlacement?.cpu ?? 0 };
  } finally {
    await session.release();
  }
}

const PROVIDERS: readonly [string, ExecutionProvider][] = [
  ['js reference', { name: 'js', reference: true }],
  ['js', 'js'],
  ['wasm', 'wasm'],
  ['webgpu', 'webgpu'],
];

describe('fused activations equal the standalone ops', () => {
  for (const act of FUSABLE_ACTIVATIONS) {
    for (const producer of ['MatMul', 'Conv'] as const) {
      for (const [name, provider] of PROVIDERS) {
        test(`${producer} + ${act} on ${name}`, async () => {
          const { fused, standalone, x } = models(act, producer);
          const a = await runOn(provider, fused, x);
          const b = await runOn(provider, standalone, x);
          if (name === 'webgpu') assert.equal(a.cpuSteps + b.cpuSteps, 0, 'a step fell back to the CPU');
          assert.equal(a.y.length, b.y.length);
          for (let i = 0; i < a.y.length; i++) {
            if (!Object.is(a.y[i], b.y[i])) assert.fail(`element ${i} (x = ${x.data[i]}): fused ${a.y[i]}, standalone ${b.y[i]} (seed ${rng.seed})`);
          }
        });
      }
    }
  }
});
