import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matmulCpu } from '../../kernels/js/gemm.ts';
import { tiledMatmulProgram, type MatmulTiles } from '../../kernels/webgpu/tiled-matmul.ts';
import { runProgram } from '../helpers/run-gpu-program.ts';
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { compareTensors } from '../helpers/compare.ts';
import { runOpCases, Tensor, withHardwareTuning, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';
import { listedSkip } from '../known-failures.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const f32 = (...dims: number[]) => ({ dtype: 'float32' as const, dims });
const mm = (name: string, a: number[], b: number[], extra: Partial<OpCase> = {}): OpCase => ({ name, op: 'MatMul', inputs: [f32(...a), f32(...b)], ...extra });
// Sums of K products of values in [-2, 2): absolute error grows with K, so atol scales a little.
const tol = { rtol: 1e-4, atol: 1e-4 };

const cases: OpCase[] = [
  mm('1x1x1', [1, 1], [1, 1]),
  mm('3x5x7 (not tile multiples)', [3, 5], [5, 7]),
  mm('127x65x33 (odd sizes)', [127, 65], [65, 33], { tolerance: tol }),
  mm('64x64x64', [64, 64], [64, 64], { tolerance: tol }),
  mm('K=1', [9, 1], [1, 13]),
  mm('K=2', [9, 2], [2, 13]),
  mm('K=3', [17, 3], [3, 40]),
  mm('K=5', [17, 5], [5, 40]),
  mm('K=0 (zeros)', [3, 0], [0, 4]),
  mm('empty batch', [0, 3, 4], [4, 5]),
  mm('M=1 row vector times matrix', [1, 64], [64, 100], { tolerance: tol }),
  mm('N=1 matrix times column', [50, 33], [33, 1]),
  mm('1-D x 2-D', [7], [7, 5]),
  mm('2-D x 1-D', [6, 7], [7]),
  mm('1-D x 1-D (scalar result)', [9], [9]),
  mm('3-D x 1-D', [2, 5, 7], [7]),
  mm('1-D x 3-D', [7], [3, 7, 4]),
  mm('batched 4-D', [2, 3, 5, 7], [2, 3, 7, 4]),
  mm('batch broadcast both ways', [2, 1, 5, 7], [3, 7, 4]),
  mm('batch broadcast B 2-D', [4, 5, 6], [6, 3]),
  mm('batch broadcast A 2-D', [5, 6], [4, 6, 3]),
  mm('batch with unit dims', [1, 3, 1, 4, 5], [2, 1, 1, 5, 2]),
  { name: 'int32', op: 'MatMul', inputs: [{ dtype: 'int32', dims: [5, 6] }, { dtype: 'int32', dims: [6, 7] }] },
  { name: 'int32 batched odd', op: 'MatMul', inputs: [{ dtype: 'int32', dims: [3, 17, 9] }, { dtype: 'int32', dims: [9, 11] }] },
  { name: 'float16', op: 'MatMul', inputs: [{ dtype: 'float16', dims: [4, 8] }, { dtype: 'float16', dims: [8, 5] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  // Fused epilogue (as our fusion pass writes it): input 2 = bias along the last dim, then activation.
  { name: 'bias', op: 'MatMul', inputs: [f32(6, 10), f32(10, 9), f32(9)] },
  { name: 'bias + Relu', op: 'MatMul', inputs: [f32(2, 19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Relu' } },
  { name: 'bias + LeakyRelu', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.1] } } },
  { name: 'bias + Clip', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 0.75] } } },
  { name: 'Sigmoid, no bias', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35)], attrs: { kiln_activation: 'Sigmoid' } },
  { name: 'bias + Tanh', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Tanh' } },
  { name: 'bias + HardSigmoid', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'HardSigmoid', kiln_activation_params: { floats: [0.3, 0.4] } } },
  { name: 'bias + HardSwish', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'HardSwish' } },
  { name: 'bias + Relu, N=1 (transposed run)', op: 'MatMul', inputs: [f32(21, 10), f32(10, 1), f32(1)], attrs: { kiln_activation: 'Relu' } },
  // Dispatch limits: 66000 workgroups need the 2-D split; 4.4M outputs > 65535 * 64.
  mm('66000 batches (2-D dispatch)', [66000, 2, 3], [3, 2]),
  mm('2100x4x2100 (4.4M outputs)', [2100, 4], [4, 2100]),
  // The vec4 form (picked with hardware tiles where B's rows are whole vec4s), through the session.
  ...withHardwareTuning([
    mm('vec4 A and B 33x20x64', [33, 20], [20, 64], { tolerance: tol }),
    mm('vec4 B, scalar A (K=7) batched', [2, 9, 7], [7, 36]),
    mm('vec4 B broadcast batch', [3, 5, 8], [3, 8, 12]),
    { name: 'vec4 int32', op: 'MatMul', inputs: [{ dtype: 'int32', dims: [5, 8] }, { dtype: 'int32', dims: [8, 12] }] },
    { name: 'vec4 bias + HardSwish', op: 'MatMul', inputs: [f32(19, 12), f32(12, 36), f32(36)], attrs: { kiln_activation: 'HardSwish' } },
    { name: 'vec4 float16', op: 'MatMul', inputs: [{ dtype: 'float16', dims: [6, 8] }, { dtype: 'float16', dims: [8, 12] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
    mm('not vec4 (N=35)', [19, 12], [12, 35]),
  ]),
];

// B (and the fused bias) as initializers, packed once; M = 1..3 runs the GEMM's matrix-vector tiles
// (4, 3 or 2 panels of 8 columns at once for M = 1, 2, 3, then single panels); a batch of small M over one 2-D B with A's
// matrices back to back is folded into one GEMM of batch * M rows. Values from the run's seeded stream.
const init = (...dims: number[]) => ({ dtype: 'float32' as const, dims, values: Array.from({ length: dims.reduce((x, d) => x * d, 1) }, () => rng.range(-2, 2)) });
const wasmConst = (name: string, a: number[], b: number[], extra: Partial<OpCase> = {}): OpCase => ({ name: `initializers: ${name}`, op: 'MatMul', inputs: [f32(...a), init(...b)], tolerance: tol, wasmKernel: true, ...extra });
const initializerCases: OpCase[] = [
  wasmConst('M=1 decode, N and K tails', [1, 83], [83, 75]),
  wasmConst('M=1 bias + Relu', [1, 47], [47, 100], { inputs: [f32(1, 47), init(47, 100), init(100)], attrs: { kiln_activation: 'Relu' } }),
  wasmConst('M=2 bias + Tanh', [2, 31], [31, 72], { inputs: [f32(2, 31), init(31, 72), init(72)], attrs: { kiln_activation: 'Tanh' } }),
  wasmConst('M=3 K=2', [3, 2], [2, 40]),
  wasmConst('batch of M=1 folded into one GEMM (A [5, 1, K], B [K, N]), Clip', [5, 1, 37], [37, 70], { inputs: [f32(5, 1, 37), init(37, 70), init(70)], attrs: { kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 0.75] } } }),
  wasmConst('batch of M=2 over 4-D A folded', [2, 3, 2, 19], [19, 33]),
  wasmConst('batched B, M=1 per matrix (not folded)', [3, 1, 21], [3, 21, 45]),
  wasmConst('A broadcast over B batch, M=3 (not folded)', [3, 21], [2, 21, 17]),
  { name: 'fed B: batch of M=1 folded, B packed once per run', op: 'MatMul', inputs: [f32(4, 1, 26), f32(26, 35)], wasmKernel: true },
];

runOpCases('matmul', [...cases, ...initializerCases]);

// The tile variants this machine's adapter does not pick (hardware 4x4 tiles; software without
// subgroups), run directly on the device against the CPU GEMM with the same strided operands.
describe('tiled matmul variants', () => {
  const variants: readonly MatmulTiles[] = [
    { tm: 4, tn: 4, threads: 64, quad: false },
    { tm: 16, tn: 8, threads: 64, quad: false },
    { tm: 16, tn: 8, threads: 8, quad: true },
  ];
  // [M, N, K, batchDims, A batch strides, B batch strides, transA, transB, with C]
  const shapes: readonly [number, number, number, number[], number[], number[], boolean, boolean, boolean][] = [
    [37, 45, 19, [], [], [], false, false, false],
    [70, 9, 33, [3], [70 * 33], [0], false, true, true],
    [5, 130, 8, [2, 2], [0, 5 * 8], [2 * 8 * 130, 8 * 130], true, false, true],
    // the vec4 form (non-quad tiles): B rows whole vec4s; A vec4 too (K % 4 == 0), or scalar A (K = 7, transA)
    [33, 64, 20, [], [], [], false, false, true],
    [9, 36, 7, [2], [9 * 7], [7 * 36], false, false, false],
    [6, 40, 12, [2], [0], [12 * 40], true, false, true],
    [3, 260, 8, [], [], [], false, false, true],
  ];
  for (const tiles of variants) {
    for (const [M, N, K, batchDims, aBatch, bBatch, transA, transB, withC] of shapes) {
      test(`${JSON.stringify(tiles)} ${M}x${N}x${K} batch [${batchDims}]${transA ? ' transA' : ''}${transB ? ' transB' : ''}${withC ? ' +C' : ''}`, async (t) => {
        const ctx = await createGpuDevice();
        if (tiles.quad && !ctx.caps.subgroups) return t.skip(listedSkip('webgpu:subgroups'));
        const size = (strides: number[], dims: number[], matrix: number): number => strides.reduce((m, s, i) => Math.max(m, s * dims[i]!), matrix);
        const aData = random(size(aBatch, batchDims, M * K));
        const bData = random(size(bBatch, batchDims, K * N));
        const cData = random(N);
        const a = { batchStrides: aBatch, rowStride: transA ? 1 : K, colStride: transA ? M : 1 };
        const b = { batchStrides: bBatch, rowStride: transB ? 1 : N, colStride: transB ? K : 1 };
        const c = { batchStrides: batchDims.map(() => 0), rowStride: 0, colStride: 1 };
        const act = { kind: 'LeakyRelu' as const, params: [0.1] };
        const want = matmulCpu({ M, N, K, batchDims, a: { data: aData, ...a }, b: { data: bData, ...b }, c: withC ? { data: cData, ...c } : undefined, alpha: 0.5, beta: 2, activation: act });
        const meta = (d: Float32Array) => ({ dtype: 'float32' as const, dims: [d.length] });
        const program = tiledMatmulProgram(
          { label: 'test', M, N, K, batchDims, a: { meta: meta(aData), slot: 0, ...a }, b: { meta: meta(bData), slot: 1, ...b }, c: withC ? { meta: meta(cData), slot: 2, ...c } : undefined, alpha: 0.5, beta: 2, activation: act, out: { dtype: 'float32', dims: [want.length] } },
          ctx.caps,
          tiles,
        );
        // the vec4 form exactly where B's rows are whole aligned vec4s (and no quad sharing)
        const vec4 = !tiles.quad && !transB && N % 4 === 0 && bBatch.every((s) => s % 4 === 0);
        assert.equal(program.label.endsWith('/vec4'), vec4, `vec4 form expected: ${vec4}`);
        assert.equal(/array<vec4<f32>>/.test(program.shader), vec4);
        const got = await runProgram(ctx.device, program, [aData, bData, cData], want.length);
        const problem = compareTensors(new Tensor('float32', got, [got.length]), new Tensor('float32', Float32Array.from(want), [want.length]), { rtol: 1e-4, atol: 1e-4 });
        assert.equal(problem, undefined, problem);
        ctx.device.destroy();
      });
    }
  }
});

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 4 - 2);
