// `node --import tsx bench/node/webgpu-int8-replay.ts [repeats]`: where int8 time goes on Kiln's
// WebGPU backend, float and int8 side by side. Records the dispatches of one warm run
// (bench/page/dispatch-profile.ts) and replays groups of them in ONE submit (as a run encodes them,
// unlike replayDispatches' one-at-a-time), float and int8 interleaved repeat by repeat; prints
// min / median ms and the load average (2 shared cores: the min is the least disturbed run).
// - one conv of each shape: float Conv vs Q -> QLinearConv (onnxruntime rounding, int8 per-channel
//   w, bias) -> DQ, split into the conv dispatch and the separate QuantizeLinear of a large x;
// - the MobileNetV3-like QDQ model (test/helpers/mobilenet-qdq.ts) vs its float twin: all, convs, rest.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { recordDispatches } from '../page/dispatch-profile.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const REPEATS = Math.max(3, Number(process.argv[2] ?? 15));
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
type Recorded = Awaited<ReturnType<typeof recordDispatches>>[number];

/** The recorded dispatches `keep` selects, encoded in one pass, submitted once: ms to work done. */
async function replayTogether(recorded: readonly Recorded[], keep: (label: string) => boolean): Promise<number> {
  const chosen = recorded.filter((d) => keep(d.pipeline.label));
  if (chosen.length === 0) return 0;
  const device = chosen[0]!.device;
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const d of chosen) {
    pass.setPipeline(d.pipeline);
    d.bindGroups.forEach((g, i) => pass.setBindGroup(i, g));
    pass.dispatchWorkgroups(...d.size);
  }
  pass.end();
  const t0 = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

async function record(bytes: Uint8Array, x: Tensor<'float32'>): Promise<Recorded[]> {
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu' }] });
  const run = (): Promise<unknown> => s.run({ [s.inputNames[0]!]: x });
  await run();
  await run();
  return recordDispatches(run);
}

function convPair(c: number, co: number, h: number, w: number, k: number, group: number): [Uint8Array, Uint8Array, number[]] {
  const dims = [1, c, h, w];
  const wDims = [co, c / group, k, k];
  const wf = Float32Array.from(uniform(rand, wDims.reduce((a, d) => a * d, 1), 0.5));
  const attrs = { pads: [k >> 1, k >> 1, k >> 1, k >> 1], group };
  const sc = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const f32 = encodeOnnxModel({
    nodes: [{ opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dtype: 'float32', dims }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: new Tensor('float32', wf, wDims) },
  });
  const q = encodeOnnxModel({
    nodes: [
      { opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { opType: 'QLinearConv', inputs: ['xq', 'xs', 'xz', 'wq', 'ws', 'wz', 'ys', 'yz', 'b'], outputs: ['yq'], attrs: { ...attrs, kiln_ort_requant: 1 } },
      { opType: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      xs: sc(2 / 255), xz: new Tensor('uint8', Uint8Array.of(128), []), ys: sc(0.1), yz: new Tensor('uint8', Uint8Array.of(128), []),
      wq: new Tensor('int8', Int8Array.from(wf, (v) => Math.round(v * 254)), wDims),
      ws: new Tensor('float32', Float32Array.from({ length: co }, (_, i) => (1 + i / co) / 254), [co]), wz: new Tensor('int8', new Int8Array(co), [co]),
      b: new Tensor('int32', Int32Array.from({ length: co }, (_, i) => i * 7 - 100), [co]),
    },
    opsets: { '': 13 },
  });
  return [f32, q, dims];
}

/** Replays each (recording, group) `REPEATS` times, all interleaved; min / median per group. */
async function measure(groups: readonly { name: string; recorded: readonly Recorded[]; keep: (l: string) => boolean }[]): Promise<string> {
  const t: number[][] = groups.map(() => []);
  for (let r = 0; r < REPEATS; r++) for (const [i, g] of groups.entries()) t[i]!.push(await replayTogether(g.recorded, g.keep));
  return groups.map((g, i) => `${g.name} ${Math.min(...t[i]!).toFixed(1)} / ${median(t[i]!).toFixed(1)}`).join(' | ');
}

const isConv = (l: string): boolean => /^(QLinear)?Conv:/.test(l);
console.log(`one-submit replays, min / median ms of ${REPEATS}, float and int8 interleaved; load average ${loadavg()[0]!.toFixed(2)} (2 shared cores)`);
for (const [c, co, h, w, k, g] of [[64, 64, 24, 96, 1, 1], [64, 64, 24, 96, 3, 64], [16, 32, 48, 192, 3, 1]] as const) {
  const [f, q, dims] = convPair(c, co, h, w, k, g);
  const x = new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 1), dims);
  const [rf, rq] = [await record(f, x), await record(q, x)];
  const line = await measure([
    { name: 'f32 Conv', recorded: rf, keep: isConv },
    { name: 'int8 QLinearConv', recorded: rq, keep: isConv },
    { name: 'its x QuantizeLinear', recorded: rq, keep: (l) => l.endsWith(':quantize-x') },
  ]);
  console.log(`${c}->${co} ${k}x${k} g${g} on ${h}x${w} (load ${loadavg()[0]!.toFixed(2)}): ${line}`);
}
const mobile = await buildParityModel(5);
const x = new Tensor('float32', uniform(rand, MOBILENET_INPUT.reduce((a: number, d: number) => a * d, 1), 1), [...MOBILENET_INPUT]);
const [mf, mq] = [await record(floatModel(buildMobileNet(5), false), x), await record(mobile.qdq, x)];
const line = await measure([
  { name: 'f32 all', recorded: mf, keep: () => true },
  { name: 'int8 all', recorded: mq, keep: () => true },
  { name: 'f32 convs', recorded: mf, keep: isConv },
  { name: 'int8 convs', recorded: mq, keep: isConv },
  { name: 'f32 rest', recorded: mf, keep: (l) => !isConv(l) },
  { name: 'int8 rest', recorded: mq, keep: (l) => !isConv(l) },
]);
console.log(`MobileNetV3-like, ${mf.length} / ${mq.length} dispatches (load ${loadavg()[0]!.toFixed(2)}): ${line}`);
