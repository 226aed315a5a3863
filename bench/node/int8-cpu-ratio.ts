// `node --import tsx bench/node/int8-cpu-ratio.ts [samples]`: Kiln wasm (1 thread) int8 QDQ vs its
// float twin, MobileNetV3-like and PaddleOCR cls (as wasm-int8-bench.ts builds them), timed by the
// process's CPU time per run instead of wall time: on this shared, oversubscribed machine wall
// times move 2-3x between runs minutes apart, CPU time leaves out the waits for a core. Each sample
// is 10 runs of one model; samples of the two alternate; medians.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 21));
const RUNS = 10;
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'kiln-cpu-'));
const cls = paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
await compressModel({
  input: cls, bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'),
  samples: 1, sensitivitySamples: 0, freeDim: 192, commandLine: 'bench', random: rand,
});
const pairs: [string, Uint8Array, Uint8Array, readonly number[]][] = [
  ['MobileNetV3-like', floatModel(buildMobileNet(5), false), (await buildParityModel(5)).qdq, MOBILENET_INPUT],
  ['PaddleOCR cls', new Uint8Array(readFileSync(cls)), new Uint8Array(readFileSync(join(dir, 'm.onnx'))), [1, 3, 48, 192]],
];
for (const [name, f32, int8, dims] of pairs) {
  const sessions = await Promise.all([f32, int8].map((b) => InferenceSession.create(b, { executionProviders: [{ name: 'wasm', numThreads: 1 }] })));
  const x = new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 1), [...dims]);
  for (let i = 0; i < 5; i++) for (const s of sessions) await s.run({ [s.inputNames[0]!]: x });
  const cpu: number[][] = [[], []];
  for (let n = 0; n < SAMPLES; n++) {
    for (const [i, s] of sessions.entries()) {
      const c0 = process.cpuUsage();
      for (let r = 0; r < RUNS; r++) await s.run({ [s.inputNames[0]!]: x });
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / RUNS);
    }
  }
  const [f, q] = [median(cpu[0]!), median(cpu[1]!)];
  const steps = sessions.map((s) => s.lastPlacement?.steps.length ?? 0);
  console.log(`${name}: f32 ${f.toFixed(3)} ms, int8 ${q.toFixed(3)} ms CPU per run; int8 / f32 ${(q / f).toFixed(2)}; steps ${steps[1]} vs ${steps[0]}`);
  await Promise.all(sessions.map((s) => s.release()));
}
