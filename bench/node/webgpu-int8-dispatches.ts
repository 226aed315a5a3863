// `node --import tsx bench/node/webgpu-int8-dispatches.ts [runs]`: the int8 QDQ models beside their
// float twins on Kiln's WebGPU backend: steps, compute dispatches per run, warm run time (median of
// `runs`, int8 and float runs interleaved) and the steps per op type of the int8 model. Models: the
// MobileNetV3-like network (test/helpers/mobilenet-qdq.ts), PaddleOCR's direction classifier and
// its `kiln compress` int8 twin, the demo MNIST CNN int8 (its float twin: the same graph with the
// weight DequantizeLinear nodes evaluated and the activation Q -> DQ pairs removed).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { floatTwin } from '../../test/helpers/float-twin.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { recordDispatches, replayDispatches, type KernelTime } from '../page/dispatch-profile.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const RUNS = Math.max(1, Number(process.argv[2] ?? 5));
// KILN_KERNEL_TUNING=hardware runs the kernel forms chosen for hardware GPUs (dot4I8Packed in the int8 convs)
const tuning: 'hardware' | 'auto' = process.env.KILN_KERNEL_TUNING === 'hardware' ? 'hardware' : 'auto';
const ep = [{ name: 'webgpu' as const, kernelTuning: tuning }];
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Pair { readonly name: string; readonly f32: Uint8Array; readonly int8: Uint8Array; readonly dims: readonly number[] }

async function paddleCls(): Promise<Pair> {
  const dims = [1, 3, 48, 192];
  const file = paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-gpu-int8-'));
  await compressModel({
    input: file, bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'),
    samples: 1, sensitivitySamples: 0, freeDim: dims[3]!, commandLine: 'bench', random: rand,
  });
  return { name: 'PaddleOCR cls', f32: new Uint8Array(readFileSync(file)), int8: new Uint8Array(readFileSync(join(dir, 'm.onnx'))), dims };
}

const mobile = await buildParityModel(5);
const mnist = new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', 'mnist-cnn-int8.onnx')));
const mnist4 = new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', 'mnist-cnn-int4.onnx')));
const pairs: Pair[] = [
  { name: 'MobileNetV3-like', f32: floatModel(buildMobileNet(5), false), int8: mobile.qdq, dims: MOBILENET_INPUT },
  await paddleCls(),
  { name: 'MNIST CNN', f32: floatTwin(mnist), int8: mnist, dims: [1, 1, 28, 28] },
  { name: 'MNIST CNN int4', f32: floatTwin(mnist4), int8: mnist4, dims: [1, 1, 28, 28] },
].filter((p) => !process.env.KILN_BENCH_ONLY || p.name.includes(process.env.KILN_BENCH_ONLY));

console.log(`kernel forms: ${tuning}; load average ${loadavg()[0]!.toFixed(2)} (2 shared cores)`);
// first run = create + the first run() (pipeline compiles: SwiftShader's JIT is most of it), f32 first;
// a pipeline both sessions use is compiled once, for the f32 one. Session 14's 60-copy shader showed here
// as a 6.8 s MNIST int8 first run (decision prologue-sites).
console.log(`| model | f32 steps | f32 dispatches | int8 steps | int8 dispatches | f32 / int8 first run ms | f32 warm ms | int8 warm ms | (median of ${RUNS}, interleaved) |`);
console.log('|---|---|---|---|---|---|---|---|---|');
const notes: string[] = [];
for (const p of pairs) {
  const x = new Tensor('float32', uniform(rand, p.dims.reduce((a, d) => a * d, 1), 1), [...p.dims]);
  const run = (s: InferenceSession): Promise<unknown> => s.run({ [s.inputNames[0]!]: x });
  const sessions: InferenceSession[] = [];
  const firstRun: number[] = [];
  for (const bytes of [p.f32, p.int8]) {
    const t0 = performance.now();
    const s = await InferenceSession.create(bytes, { executionProviders: ep });
    await run(s);
    firstRun.push(performance.now() - t0);
    sessions.push(s);
  }
  const times: number[][] = [[], []];
  for (let r = 0; r < RUNS; r++) {
    for (const [i, s] of sessions.entries()) {
      const t0 = performance.now();
      await run(s);
      times[i]!.push(performance.now() - t0);
    }
  }
  const [pf, pi] = sessions.map((s) => s.lastPlacement!);
  console.log(`| ${p.name} | ${pf!.steps.length} | ${pf!.dispatches} | ${pi!.steps.length} | ${pi!.dispatches} | ${firstRun.map((t) => t.toFixed(0)).join(' / ')} | ${median(times[0]!).toFixed(1)} | ${median(times[1]!).toFixed(1)} | |`);
  for (const [label, pl] of [['f32', pf!], ['int8', pi!]] as const) {
    const counts = new Map<string, number>();
    for (const st of pl.steps) counts.set(`${st.opType}@${st.device}`, (counts.get(`${st.opType}@${st.device}`) ?? 0) + 1);
    notes.push(`${p.name} ${label}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  // KILN_PROFILE=1: each dispatch of one warm run replayed alone (bench/page/dispatch-profile.ts), summed per op
  if (process.env.KILN_PROFILE) {
    const profiles = [];
    for (const s of sessions) profiles.push(await replayDispatches(await recordDispatches(() => run(s)), 5));
    const show = (ks: readonly KernelTime[]): string => ks.map((k) => `${k.label} ${k.ms.toFixed(1)} ms/${k.dispatches}`).join(', ');
    for (const [label, pr] of [['f32', profiles[0]!], ['int8', profiles[1]!]] as const) {
      notes.push(`${p.name} ${label} profile: kernels ${pr.kernelMs.toFixed(1)} ms, empty submit ${pr.emptySubmitMs.toFixed(2)} ms; ${show(pr.byOp)}`);
      if (process.env.KILN_PROFILE === 'labels') notes.push(`  by label: ${show(pr.byLabel)}`);
    }
  }
  for (const s of sessions) await s.release();
}
for (const n of notes) console.log(n);
