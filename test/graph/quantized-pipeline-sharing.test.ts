// QLinearConv / QLinearMatMul nodes that differ only in their output channel count share one WebGPU
// pipeline: their requantization multipliers sit in a uniform array padded to a few size classes
// (channelUniformSlots), since the uniform block's size is part of the WGSL. With one class per power of
// two the MobileNetV3-like int8 model compiled 23 pipelines (float twin 14): 20.5 s of SwiftShader JIT
// on one core against 10.7 s, now 17 pipelines and 10.7 s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';

const f = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
const u8 = (v: number): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.of(v), []);

/** uint8 x [1, 8, 5, 6] -> one QLinearConv 3x3 (per-channel int8 weights, bias) per entry of `couts`, side by side */
function convs(couts: readonly number[]): Uint8Array {
  const initializers: Record<string, Tensor<'float32'> | Tensor<'uint8'> | Tensor<'int8'> | Tensor<'int32'>> = { xs: f(0.02), xz: u8(128), ys: f(0.07), yz: u8(120) };
  couts.forEach((cout, k) => {
    initializers[`w${k}`] = new Tensor('int8', Int8Array.from({ length: cout * 72 }, (_, i) => ((i * 37) % 255) - 127), [cout, 8, 3, 3]);
    initializers[`ws${k}`] = new Tensor('float32', Float32Array.from({ length: cout }, (_, i) => 0.002 + i * 1e-4), [cout]);
    initializers[`wz${k}`] = new Tensor('int8', new Int8Array(cout), [cout]);
    initializers[`b${k}`] = new Tensor('int32', Int32Array.from({ length: cout }, (_, i) => i * 11 - 50), [cout]);
  });
  return encodeOnnxModel({
    nodes: couts.map((_, k) => ({ opType: 'QLinearConv', inputs: ['x', 'xs', 'xz', `w${k}`, `ws${k}`, `wz${k}`, 'ys', 'yz', `b${k}`], outputs: [`y${k}`], attrs: { pads: [1, 1, 1, 1] } })),
    inputs: [{ name: 'x', dtype: 'uint8', dims: [1, 8, 5, 6] }], outputs: couts.map((_, k) => ({ name: `y${k}`, dtype: 'uint8' as const })),
    initializers, opsets: { '': 13 },
  });
}

/** uint8 a [3, 16] -> one QLinearMatMul by int8 b [16, n] (per-column b scales) per entry of `ns`, side by side */
function matmuls(ns: readonly number[]): Uint8Array {
  const initializers: Record<string, Tensor<'float32'> | Tensor<'uint8'> | Tensor<'int8'>> = { as: f(0.02), az: u8(128), ys: f(0.05), yz: u8(128) };
  ns.forEach((n, k) => {
    initializers[`b${k}`] = new Tensor('int8', Int8Array.from({ length: 16 * n }, (_, i) => ((i * 29) % 255) - 127), [16, n]);
    initializers[`bs${k}`] = new Tensor('float32', Float32Array.from({ length: n }, (_, i) => 0.003 + i * 1e-5), [n]);
    initializers[`bz${k}`] = new Tensor('int8', new Int8Array(n), [n]);
  });
  return encodeOnnxModel({
    nodes: ns.map((_, k) => ({ opType: 'QLinearMatMul', inputs: ['a', 'as', 'az', `b${k}`, `bs${k}`, `bz${k}`, 'ys', 'yz'], outputs: [`y${k}`] })),
    inputs: [{ name: 'a', dtype: 'uint8', dims: [3, 16] }], outputs: ns.map((_, k) => ({ name: `y${k}`, dtype: 'uint8' as const })),
    initializers, opsets: { '': 13 },
  });
}

test('QLinearConvs of 24, 40 and 200 output channels share one pipeline, 300 channels is the next class; QLinearMatMuls of 10 and 130 columns share one', async () => {
  (await createGpuDevice()).device.destroy(); // installs Dawn's GPUDevice, whose prototype every session's device shares
  const device = (globalThis as { GPUDevice?: { prototype: GPUDevice } }).GPUDevice!.prototype;
  const labels: string[] = [];
  const create = device.createShaderModule;
  device.createShaderModule = function (this: GPUDevice, d: GPUShaderModuleDescriptor) {
    labels.push((d.label ?? '').split(':')[0]!);
    return create.call(this, d);
  };
  try {
    /** the op types of the shader modules one session of the model creates */
    const modulesOf = async (bytes: Uint8Array, dims: number[]): Promise<string[]> => {
      const before = labels.length;
      // worker: false keeps the device on this thread, where the prototype is patched
      const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'], worker: false });
      const out = await s.run({ [s.inputNames[0]!]: new Tensor('uint8', Uint8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i * 53) % 256), dims) });
      for (const name of s.outputNames) assert.ok(new Set(out[name]!.data as Uint8Array).size > 4, `${name}: the node ran and its outputs vary`);
      assert.equal(s.lastPlacement!.cpu, 0, 'every node on the GPU');
      await s.release();
      return labels.slice(before);
    };
    assert.deepEqual(await modulesOf(convs([24, 40, 200]), [1, 8, 5, 6]), ['QLinearConv']);
    assert.deepEqual(await modulesOf(convs([24, 300]), [1, 8, 5, 6]), ['QLinearConv', 'QLinearConv']);
    assert.deepEqual(await modulesOf(matmuls([10, 130]), [3, 16]), ['QLinearMatMul']);
  } finally {
    device.createShaderModule = create;
  }
});
