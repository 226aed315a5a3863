// `node --import tsx bench/node/int8-cpu-ratio.ts [samples]`: Kiln wasm (1 thread) int8 QDQ vs its
// float twin, MobileNetV3-like and PaddleOCR cls (bench/node/int8-twins.ts), with onnxruntime-web's
// wasm EP (1 thread) on the same int8 bytes for reference, timed by the process's CPU time per run
// instead of wall time: on this shared, oversubscribed machine wall times move 2-3x between runs
// minutes apart, CPU time leaves out the waits for a core (after warm-up: see below). Each sample is 10 runs of one runner;
// samples of the three alternate; medians. Also the largest difference from onnxruntime-web's int8
// output (0: the same bytes).
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { int8Twins } from './int8-twins.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 21));
const RUNS = 10;
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
ort.env.wasm.numThreads = 1;

for (const { name, f32, int8, dims } of await int8Twins(rand)) {
  const sessions = await Promise.all([f32, int8].map((b) => InferenceSession.create(b, { executionProviders: [{ name: 'wasm', numThreads: 1 }] })));
  const ortSession = await ort.InferenceSession.create(int8, { executionProviders: ['wasm'] });
  const data = uniform(rand, dims.reduce((a, d) => a * d, 1), 1);
  const x = new Tensor('float32', data, [...dims]);
  const ox = new ort.Tensor('float32', data, [...dims]);
  const runners: (() => Promise<Float32Array>)[] = [
    ...sessions.map((s) => async () => (await s.run({ [s.inputNames[0]!]: x }))[s.outputNames[0]!]!.data as Float32Array),
    async () => (await ortSession.run({ [ortSession.inputNames[0]!]: ox }))[ortSession.outputNames[0]!]!.data as Float32Array,
  ];
  // 1.5 s per runner first: V8 tiers hot wasm functions up on background threads, which
  // process.cpuUsage counts (5 warm runs left the sonnet GPT's int4/f32 at 0.42-3.9 vs 1.14-1.46
  // tiered: bench/node/int8-run-ratio.ts, docs/decisions.md wasm-int8-run)
  for (const r of runners) {
    const t0 = performance.now();
    for (let i = 0; i < 5 || performance.now() - t0 < 1500; i++) await r();
  }
  const cpu: number[][] = runners.map(() => []);
  for (let n = 0; n < SAMPLES; n++) {
    for (const [i, r] of runners.entries()) {
      const c0 = process.cpuUsage();
      for (let k = 0; k < RUNS; k++) await r();
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / RUNS);
    }
  }
  const [kq, oq] = [await runners[1]!(), await runners[2]!()];
  const maxDiff = kq.reduce((m, v, i) => Math.max(m, Math.abs(v - oq[i]!)), 0);
  const [f, q, o] = cpu.map(median) as [number, number, number];
  const steps = sessions.map((s) => s.lastPlacement?.steps.length ?? 0);
  console.log(`${name}: Kiln f32 ${f.toFixed(3)} ms, Kiln int8 ${q.toFixed(3)} ms, ort int8 ${o.toFixed(3)} ms CPU per run; Kiln int8 / f32 ${(q / f).toFixed(2)}; steps ${steps[1]} vs ${steps[0]}; max |Kiln int8 - ort int8| ${maxDiff}`);
  await Promise.all([...sessions.map((s) => s.release()), ortSession.release()]);
}
