// `node --import tsx bench/node/webgpu-qconv-micro.ts [samples]`: one Conv (float32) beside one
// QLinearConv (uint8 x, int8 per-channel w, onnxruntime rounding) of the same shape on Kiln's WebGPU
// backend, medians of interleaved samples: where the int8 conv kernel stands against the float one.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { msPerCall } from './time-per-call.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const SAMPLES = Math.max(3, Number(process.argv[2] ?? 5));
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tuning: 'hardware' | 'auto' = process.env.KILN_KERNEL_TUNING === 'hardware' ? 'hardware' : 'auto';

function pair(c: number, co: number, h: number, w: number, k: number, group: number): [Uint8Array, Uint8Array, number[]] {
  const dims = [1, c, h, w];
  const wDims = [co, c / group, k, k];
  const n = wDims.reduce((a, d) => a * d, 1);
  const wf = Float32Array.from(uniform(rand, n, 0.5));
  const attrs = { pads: [k >> 1, k >> 1, k >> 1, k >> 1], group };
  const f32 = encodeOnnxModel({
    nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dtype: 'float32', dims }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: new Tensor('float32', wf, wDims) },
  });
  const sc = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const q = encodeOnnxModel({
    nodes: [
      { opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { opType: 'QLinearConv', inputs: ['xq', 'xs', 'xz', 'wq', 'ws', 'wz', 'ys', 'yz'], outputs: ['yq'], attrs: { ...attrs, kiln_ort_requant: 1 } },
      { opType: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      xs: sc(2 / 255), xz: new Tensor('uint8', Uint8Array.of(128), []), ys: sc(0.1), yz: new Tensor('uint8', Uint8Array.of(128), []),
      wq: new Tensor('int8', Int8Array.from(wf, (v) => Math.round(v * 254)), wDims), ws: new Tensor('float32', new Float32Array(co).fill(1 / 254), [co]), wz: new Tensor('int8', new Int8Array(co), [co]),
    },
    opsets: { '': 13 },
  });
  return [f32, q, dims];
}

console.log(`kernel forms ${tuning}; load average ${loadavg()[0]!.toFixed(2)}`);
console.log('| conv | f32 ms | int8 ms (Q, QLinearConv, DQ) |');
console.log('|---|---|---|');
for (const [c, co, h, w, k, g] of [[64, 64, 24, 96, 1, 1], [64, 64, 24, 96, 3, 64], [16, 32, 48, 192, 3, 1]] as const) {
  const [f, q, dims] = pair(c, co, h, w, k, g);
  const x = new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 1), dims);
  const runs = await Promise.all([f, q].map(async (bytes) => {
    const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu', kernelTuning: tuning }] });
    const run = (): Promise<unknown> => s.run({ x });
    await run();
    return run;
  }));
  const t: number[][] = [[], []];
  for (let i = 0; i < SAMPLES; i++) for (const [j, r] of runs.entries()) t[j]!.push(await msPerCall(r, 50));
  console.log(`| ${c}->${co} ${k}x${k} g${g} ${h}x${w} | ${median(t[0]!).toFixed(2)} | ${median(t[1]!).toFixed(2)} |`);
}
