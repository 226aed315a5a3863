// com.microsoft QLinearAdd: WebGPU vs the CPU reference (exact), the reference vs onnxruntime-web's
// own QLinearAdd (exact: the oracle the reference copies), and bad inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

ort.env.wasm.numThreads = 1;
const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[], range: [number, number] = [0, 256]): InputSpec => ({ dtype: 'uint8', dims, range });
const i8 = (dims: number[], range: [number, number] = [-128, 128]): InputSpec => ({ dtype: 'int8', dims, range });
const sc = (dims: number[], range: [number, number] = [0.01, 0.05]): InputSpec => ({ dtype: 'float32', dims, range });
const c = (dtype: 'float32' | 'uint8' | 'int8', dims: number[], values: number[]): InputSpec => ({ dtype, dims, values });
// inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point
// every case must run the wasm kernel itself (kernels/qlinear-binary/wasm.ts)
const add = (name: string, inputs: InputSpec[]): OpCase => ({ name, op: 'QLinearAdd', domain: 'com.microsoft', inputs, tolerance: EXACT, wasmKernel: true });

runOpCases('qlinear-add', [
  add('uint8, same shapes', [u8([2, 8, 5, 5]), sc([]), u8([]), u8([2, 8, 5, 5]), sc([]), u8([]), sc([], [0.02, 0.08]), u8([])]),
  add('int8, broadcast [C,1,1]', [i8([1, 6, 4, 3]), sc([]), i8([]), i8([6, 1, 1]), sc([]), i8([]), sc([], [0.02, 0.08]), i8([])]),
  add('uint8, [1]-shaped parameters, scalar B', [u8([33]), sc([1]), u8([1]), u8([]), sc([1]), u8([1]), sc([1], [0.02, 0.08]), u8([1])]),
  // scales of 1/3 and 2/3 over 2/9: (va + vb) / sc sits on halves up to float32 rounding, where adding the zero point first decides
  add('near-ties', [u8([4, 64], [0, 40]), c('float32', [], [1 / 3]), c('uint8', [], [0]), u8([4, 64], [0, 40]), c('float32', [], [2 / 3]), c('uint8', [], [0]), c('float32', [], [2 / 9]), c('uint8', [], [128])]),
  add('int8, A broadcast along a row, odd inner', [i8([5]), sc([]), i8([]), i8([3, 5]), sc([]), i8([]), sc([], [0.02, 0.08]), i8([])]),
  add('uint8, A per channel, fed constants', [u8([1, 7, 1, 1]), c('float32', [], [0.03]), c('uint8', [], [100]), u8([2, 7, 3, 5]), c('float32', [], [0.02]), c('uint8', [], [128]), c('float32', [], [0.04]), c('uint8', [], [120])]),
  add('saturating output', [u8([50]), c('float32', [], [0.5]), c('uint8', [], [10]), u8([50]), c('float32', [], [0.5]), c('uint8', [], [10]), c('float32', [], [0.1]), c('uint8', [], [5])]),
]);

test('QLinearAdd matches onnxruntime-web bit for bit on seeded random inputs', async () => {
  const rng = testRng(import.meta.url, 'vs onnxruntime-web');
  const seed = rng.seed;
  console.log(`QLinearAdd vs onnxruntime-web: seed ${seed}`);
  const rnd = (): number => rng.uniform();
  for (const [type, dimsA, dimsB] of [['uint8', [2, 16, 7, 7], [2, 16, 7, 7]], ['int8', [1, 8, 6, 6], [8, 1, 1]]] as const) {
    const signed = type === 'int8';
    const q = (dims: readonly number[]): AnyTensor => {
      const n = dims.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, () => Math.floor(rnd() * 256) - (signed ? 128 : 0));
      return signed ? new Tensor('int8', Int8Array.from(v), dims) : new Tensor('uint8', Uint8Array.from(v), dims);
    };
    const scalarQ = (v: number): AnyTensor => (signed ? new Tensor('int8', Int8Array.of(v - 128), []) : new Tensor('uint8', Uint8Array.of(v), []));
    const f = (v: number): AnyTensor => new Tensor('float32', Float32Array.of(v), []);
    const inits = {
      as: f(0.005 + rnd() * 0.05), az: scalarQ(Math.floor(rnd() * 256)), bs: f(0.005 + rnd() * 0.05), bz: scalarQ(Math.floor(rnd() * 256)),
      cs: f(0.01 + rnd() * 0.05), cz: scalarQ(Math.floor(rnd() * 256)),
    };
    const model = encodeOnnxModel({
      nodes: [{ opType: 'QLinearAdd', domain: 'com.microsoft', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'cs', 'cz'], outputs: ['c'] }],
      inputs: [{ name: 'a', dtype: type, dims: [...dimsA] }, { name: 'b', dtype: type, dims: [...dimsB] }],
      outputs: [{ name: 'c', dtype: type }],
      initializers: inits,
      opsets: { '': 17, 'com.microsoft': 1 },
    });
    const a = q(dimsA);
    const b = q(dimsB);
    const o = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const want = (await o.run({ a: new ort.Tensor(type, a.data as Uint8Array, [...dimsA]), b: new ort.Tensor(type, b.data as Uint8Array, [...dimsB]) })).c!.data as Uint8Array | Int8Array;
    await o.release();
    for (const ep of ['js', 'wasm', 'webgpu'] as const) {
      const k = await InferenceSession.create(model, { executionProviders: [ep] });
      const got = (await k.run({ a, b })).c!.data as Uint8Array | Int8Array;
      if (ep === 'wasm') assert.equal(k.lastPlacement?.steps[0]?.implementation, 'wasm');
      await k.release();
      assert.deepEqual(Array.from(got), Array.from(want), `${type} on ${ep}, seed ${seed}`);
    }
  }
});

const bad = (name: string, inputs: InputSpec[], error: RegExp) => ({ name, op: 'QLinearAdd', domain: 'com.microsoft', inputs, error });
runBadInputCases('qlinear-add', [
  bad('B type differs', [u8([4]), sc([]), u8([]), i8([4]), sc([]), i8([]), sc([]), u8([])], /B type int8 differs from A type uint8/),
  bad('per-channel scale', [u8([2, 3]), sc([3]), u8([]), u8([2, 3]), sc([]), u8([]), sc([]), u8([])], /A_scale must be a scalar/),
  bad('float input', [sc([4]), sc([]), u8([]), sc([4]), sc([]), u8([]), sc([]), u8([])], /A type float32 is not one of uint8, int8/),
  bad('shapes that do not broadcast', [u8([3]), sc([]), u8([]), u8([4]), sc([]), u8([]), sc([]), u8([])], /broadcast/),
]);
