// `node --import tsx bench/node/int8-run-ratio.ts [samples] [model filter]`: whole runs of quantized
// models against their float twins on Kiln wasm (1 thread), issue 11's "int8 and int4 models faster
// than their float versions": the MobileNetV3-like model and PaddleOCR cls (bench/node/int8-twins.ts),
// the demo's MNIST CNNs (int8 QDQ; int4 blocked QDQ) and sonnet GPT (int4 blocked QDQ, MatMulNBits on wasm; a 32-token
// prompt and a 1-token run, pasts empty), the last two against bench/node/float-twin.ts. Per pair:
// - CPU time per run, after warming to steady state (WARM_MS below) (process.cpuUsage over 10 runs), samples of the two alternating, medians;
// - then runs with the step timer on, alternating: median wall per run, median sum of the steps'
//   times, and their difference (what a run costs outside the steps: feeds, outputs, session.run);
//   the ops whose median summed time differs most between the two.
// The load average is printed beside: the machine is shared.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { setWasmStepTimer } from '../../runtime/backends/wasm/step-timer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { floatTwin } from '../../test/helpers/float-twin.ts';
import { int8Twins } from './int8-twins.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 15));
const FILTER = process.argv[3] ?? '';
const RUNS = 10;
// V8 tiers hot wasm functions up on background threads, which process.cpuUsage counts: after 5 warm
// runs the GPT's int4/f32 CPU ratio read 0.42 and 3.9, after 300 1.14 and 1.46 (wall agreed with the
// latter). So each session first runs for WARM_MS of wall time (and at least 20 runs).
const WARM_MS = Number(process.env.KILN_WARM_MS ?? 1500);
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Pair {
  readonly name: string;
  readonly quantized: string;
  readonly f32: Uint8Array;
  readonly q: Uint8Array;
  readonly feeds: Record<string, AnyTensor>;
}

function gptFeeds(n: number): Record<string, AnyTensor> {
  const i64 = (v: readonly number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
  const ids = Array.from({ length: n }, () => Math.floor(rand() * 61));
  const feeds: Record<string, AnyTensor> = { input_ids: i64(ids), attention_mask: i64(Array(n).fill(1)), position_ids: i64(ids.map((_, i) => i)) };
  for (const l of [0, 1]) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new Tensor('float32', new Float32Array(0), [1, 4, 0, 16]);
  return feeds;
}

async function pairs(): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const t of await int8Twins(rand)) {
    out.push({ name: t.name, quantized: 'int8', f32: t.f32, q: t.int8, feeds: { x: new Tensor('float32', uniform(rand, t.dims.reduce((a, d) => a * d, 1), 1), [...t.dims]) } });
  }
  const mnist = new Uint8Array(readFileSync('demo/models/mnist-cnn-int8.onnx'));
  const digit = { input: new Tensor('float32', uniform(rand, 784, 1).map((v) => Math.abs(v)), [1, 1, 28, 28]) };
  out.push({ name: 'MNIST CNN', quantized: 'int8', f32: floatTwin(mnist), q: mnist, feeds: digit });
  const mnist4 = new Uint8Array(readFileSync('demo/models/mnist-cnn-int4.onnx'));
  out.push({ name: 'MNIST CNN int4', quantized: 'int4', f32: floatTwin(mnist4), q: mnist4, feeds: digit });
  const gpt = new Uint8Array(readFileSync('demo/models/sonnets-gpt-int4.onnx'));
  const gptF32 = floatTwin(gpt);
  out.push({ name: 'sonnet GPT, 32-token prompt', quantized: 'int4', f32: gptF32, q: gpt, feeds: gptFeeds(32) });
  out.push({ name: 'sonnet GPT, 1 token', quantized: 'int4', f32: gptF32, q: gpt, feeds: gptFeeds(1) });
  return out.filter((p) => p.name.includes(FILTER));
}

for (const p of await pairs()) {
  const sessions = await Promise.all([p.f32, p.q].map((b) => InferenceSession.create(b, { executionProviders: [{ name: 'wasm', numThreads: 1 }] })));
  // the MobileNetV3-like input is named 'x' in both; the others keep their names
  const feedsOf = (s: InferenceSession): Record<string, AnyTensor> => (p.feeds.x && s.inputNames.length === 1 ? { [s.inputNames[0]!]: p.feeds.x } : p.feeds);
  const run = (s: InferenceSession): Promise<unknown> => s.run(feedsOf(s), [s.outputNames[0]!]);
  for (const s of sessions) {
    const t0 = performance.now();
    for (let i = 0; i < 20 || performance.now() - t0 < WARM_MS; i++) await run(s);
  }
  const cpu: number[][] = [[], []];
  const l0 = load();
  for (let n = 0; n < SAMPLES; n++) {
    for (const [i, s] of sessions.entries()) {
      const c0 = process.cpuUsage();
      for (let k = 0; k < RUNS; k++) await run(s);
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / RUNS);
    }
  }
  const wall: number[][] = [[], []];
  const stepSum: number[][] = [[], []];
  const perOp: Map<string, number[]>[] = [new Map(), new Map()];
  for (let n = 0; n < SAMPLES * RUNS; n++) {
    for (const [i, s] of sessions.entries()) {
      const times: number[] = [];
      setWasmStepTimer((step, ms) => void (times[step] = ms));
      const t0 = performance.now();
      await run(s);
      const t = performance.now() - t0;
      setWasmStepTimer(undefined);
      wall[i]!.push(t);
      stepSum[i]!.push(times.reduce((a, b) => a + b, 0));
      const byOp = new Map<string, number>();
      s.lastPlacement!.steps.forEach((st, j) => byOp.set(st.opType, (byOp.get(st.opType) ?? 0) + (times[j] ?? 0)));
      for (const [op, ms] of byOp) perOp[i]!.set(op, [...(perOp[i]!.get(op) ?? []), ms]);
    }
  }
  const [f, q] = cpu.map(median) as [number, number];
  const steps = sessions.map((s) => s.lastPlacement?.steps.length ?? 0);
  const us = (ms: number): string => (ms * 1000).toFixed(0);
  console.log(`\n## ${p.name}: load ${l0} -> ${load()}`);
  console.log(`CPU per run: f32 ${f.toFixed(3)} ms, ${p.quantized} ${q.toFixed(3)} ms, ${p.quantized} / f32 ${(q / f).toFixed(3)}; steps ${steps[1]} vs ${steps[0]}`);
  const out = wall.map((w, i) => median(w.map((x, j) => x - stepSum[i]![j]!)));
  console.log(`wall medians (us): f32 run ${us(median(wall[0]!))} = steps ${us(median(stepSum[0]!))} + outside ${us(out[0]!)}; ${p.quantized} run ${us(median(wall[1]!))} = steps ${us(median(stepSum[1]!))} + outside ${us(out[1]!)}`);
  const ops = [...new Set([...perOp[0]!.keys(), ...perOp[1]!.keys()])].map((op) => [op, ...perOp.map((m) => (m.has(op) ? median(m.get(op)!) : 0))] as const);
  ops.sort((a, b) => Math.abs(b[2] - b[1]) - Math.abs(a[2] - a[1]));
  console.log(`ops by median summed us (f32 -> ${p.quantized}): ${ops.slice(0, 10).map(([op, a, b]) => `${op} ${us(a)} -> ${us(b)}`).join('; ')}`);
  await Promise.all(sessions.map((s) => s.release()));
}
