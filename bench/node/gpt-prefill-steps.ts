// `node --import tsx bench/node/gpt-prefill-steps.ts [L] [runs] [threads]`: where the demo GPT's
// prefill (demo/models/sonnets-gpt-int4.kiln, an L-token prompt, empty past) spends its time on
// Kiln's wasm backend, step by step (runtime/backends/wasm/step-timer.ts), beside onnxruntime-web
// wasm 1 thread's whole run on the QDQ .onnx exported with it. Runs interleave the two; per step the
// minimum over the runs (the least disturbed on a shared machine), then per op type the steps and
// the sum of their minimums; the run totals are medians of wall time and of this process's CPU time
// (process.cpuUsage; with 1 thread each both runtimes run on this thread, so CPU time is their
// work, less disturbed than wall time on a loaded machine; with more Kiln threads it sums them).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { setWasmStepTimer } from '../../runtime/backends/wasm/step-timer.ts';
import { InferenceSession } from '../../runtime/node.ts';

const L = Number(process.argv[2] ?? 512);
const RUNS = Math.max(3, Number(process.argv[3] ?? 15));
const THREADS = Number(process.argv[4] ?? 1);
const modelPath = process.env.KILN_GPT_MODEL ?? 'demo/models/sonnets-gpt-int4.kiln';
const kiln = await InferenceSession.create(readFileSync(modelPath), { executionProviders: [{ name: 'wasm', numThreads: THREADS }] });
ort.env.wasm.numThreads = 1;
const theirs = await ort.InferenceSession.create(readFileSync(modelPath.replace(/\.kiln$/i, '.onnx')), { executionProviders: ['wasm'] });
const pastMeta = kiln.inputMetadata.find((m) => m.name.startsWith('past_key_values'))!;
const [heads, headDim] = [Number(pastMeta.shape[1]), Number(pastMeta.shape[3])];
const vocab = Number(kiln.outputMetadata.find((m) => m.name === 'logits')!.shape[2]);
const ids = Array.from({ length: L }, (_, i) => (i * 7 + 3) % vocab);
const i64 = (v: readonly number[]): AnyTensor => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
const kilnFeeds = (): Record<string, AnyTensor> => ({
  input_ids: i64(ids),
  attention_mask: i64(ids.map(() => 1)),
  position_ids: i64(ids.map((_, i) => i)),
  ...Object.fromEntries(kiln.inputNames.filter((n) => n.startsWith('past')).map((n) => [n, new Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])])),
});
const o64 = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
const ortFeeds = (): Record<string, ort.Tensor> => ({
  input_ids: o64(ids),
  attention_mask: o64(ids.map(() => 1)),
  position_ids: o64(ids.map((_, i) => i)),
  ...Object.fromEntries(theirs.inputNames.filter((n) => n.startsWith('past')).map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])])),
});
const median = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const best: number[] = [];
const [kilnMs, ortMs, kilnCpu, ortCpu] = [[] as number[], [] as number[], [] as number[], [] as number[]];
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
const WARM = 10; // runs left out: V8 tiers both wasm modules up in background threads meanwhile (their CPU time counts here)
for (let r = 0; r < RUNS + WARM; r++) {
  const warm = r >= WARM;
  setWasmStepTimer(warm ? (i, ms) => void (best[i] = Math.min(best[i] ?? Infinity, ms)) : undefined);
  const kf = kilnFeeds();
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  const out = await kiln.run(kf);
  if (warm) {
    kilnMs.push(performance.now() - t0);
    kilnCpu.push(cpuMs(process.cpuUsage(c0)));
  }
  for (const t of Object.values(out)) t.dispose();
  setWasmStepTimer(undefined);
  const of = ortFeeds();
  c0 = process.cpuUsage();
  t0 = performance.now();
  await theirs.run(of);
  if (warm) {
    ortMs.push(performance.now() - t0);
    ortCpu.push(cpuMs(process.cpuUsage(c0)));
  }
}
const steps = kiln.lastPlacement!.steps;
const byOp = new Map<string, [number, number]>();
steps.forEach((s, i) => {
  const key = `${s.opType} (${s.implementation})`;
  const e = byOp.get(key) ?? [0, 0];
  byOp.set(key, [e[0] + 1, e[1] + (best[i] ?? 0)]);
});
const stepSum = best.reduce((a, b) => a + (b ?? 0), 0);
console.log(`L = ${L}, ${THREADS} thread(s), ${RUNS} runs interleaved, load ${loadavg()[0]!.toFixed(1)}: Kiln run median ${median(kilnMs).toFixed(2)} ms wall (min ${Math.min(...kilnMs).toFixed(2)}), ${median(kilnCpu).toFixed(2)} CPU (min ${Math.min(...kilnCpu).toFixed(2)}) (steps' minimums sum ${stepSum.toFixed(2)}), ort wasm 1t ${median(ortMs).toFixed(2)} ms wall (min ${Math.min(...ortMs).toFixed(2)}), ${median(ortCpu).toFixed(2)} CPU (min ${Math.min(...ortCpu).toFixed(2)}); ort / Kiln CPU ${(median(ortCpu) / median(kilnCpu)).toFixed(2)}x`);
console.log('| op (implementation) | steps | ms (sum of per-step minimums) | share |');
console.log('|---|---|---|---|');
for (const [op, [n, ms]] of [...byOp].sort((a, b) => b[1][1] - a[1][1])) console.log(`| ${op} | ${n} | ${ms.toFixed(2)} | ${((100 * ms) / stepSum).toFixed(0)}% |`);
const order = best.map((ms, i) => [ms, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 12);
console.log(`slowest: ${order.map(([ms, i]) => `${steps[i]!.opType} ${steps[i]!.node} ${ms.toFixed(2)}`).join('; ')}`);
await kiln.release();
await theirs.release();
