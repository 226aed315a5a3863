// `node --import tsx bench/node/wasm-step-times.ts [runs] [top]`: where the int8 CNNs lose to their
// float twins on Kiln's wasm backend (1 thread), step by step. Each model runs `runs` times (the
// two twins alternating run by run); every step's wall time comes from the backend's opt-in step
// timer (runtime/backends/wasm/step-timer.ts). Per step the minimum over the runs (the least
// disturbed by the other processes of a shared machine), then per op type: steps and the sum of
// their minimums; then the `top` slowest steps of each model.
import { Tensor } from '../../core/tensor.ts';
import { setWasmStepTimer } from '../../runtime/backends/wasm/step-timer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { int8Twins } from './int8-twins.ts';

const RUNS = Math.max(5, Number(process.argv[2] ?? 200));
const TOP = Number(process.argv[3] ?? 12);
const rand = seededRandom(20261203);

interface Timed {
  readonly label: string;
  readonly session: InferenceSession;
  readonly best: number[];
}

for (const twin of await int8Twins(rand)) {
  const x = new Tensor('float32', uniform(rand, twin.dims.reduce((a, d) => a * d, 1), 1), [...twin.dims]);
  const timed: Timed[] = [];
  for (const [label, bytes] of [['f32', twin.f32], ['int8', twin.int8]] as const) {
    const session = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
    timed.push({ label, session, best: [] });
  }
  for (let r = 0; r < RUNS + 3; r++) {
    for (const t of timed) {
      const warm = r >= 3;
      setWasmStepTimer(warm ? (i, ms) => void (t.best[i] = Math.min(t.best[i] ?? Infinity, ms)) : undefined);
      await t.session.run({ [t.session.inputNames[0]!]: x });
    }
  }
  setWasmStepTimer(undefined);
  console.log(`\n## ${twin.name} (per-step minimum over ${RUNS} runs, us)`);
  const byOp = timed.map((t) => {
    const m = new Map<string, [number, number]>();
    t.session.lastPlacement!.steps.forEach((s, i) => {
      const e = m.get(s.opType) ?? [0, 0];
      m.set(s.opType, [e[0] + 1, e[1] + (t.best[i] ?? 0) * 1000]);
    });
    return m;
  });
  const ops = [...new Set(byOp.flatMap((m) => [...m.keys()]))].sort((a, b) => Math.max(...byOp.map((m) => m.get(b)?.[1] ?? 0)) - Math.max(...byOp.map((m) => m.get(a)?.[1] ?? 0)));
  console.log(`| op | ${timed.map((t) => `${t.label} steps | ${t.label} us`).join(' | ')} |`);
  for (const op of ops) console.log(`| ${op} | ${byOp.map((m) => `${m.get(op)?.[0] ?? 0} | ${(m.get(op)?.[1] ?? 0).toFixed(0)}`).join(' | ')} |`);
  console.log(`| total | ${timed.map((t) => `${t.best.length} | ${(t.best.reduce((a, b) => a + b, 0) * 1000).toFixed(0)}`).join(' | ')} |`);
  for (const t of timed) {
    const steps = t.session.lastPlacement!.steps;
    const order = t.best.map((ms, i) => [ms, i] as const).sort((a, b) => b[0] - a[0]).slice(0, TOP);
    console.log(`${t.label} slowest: ${order.map(([ms, i]) => `${steps[i]!.opType} ${steps[i]!.node} ${(ms * 1000).toFixed(0)}`).join('; ')}`);
  }
  // the same node in both (a Conv and the QLinearConv it became keep its name): where int8 is slower
  const f32At = new Map(timed[0]!.session.lastPlacement!.steps.map((s, i) => [s.node, timed[0]!.best[i] ?? 0]));
  const pairs = timed[1]!.session.lastPlacement!.steps.flatMap((s, i) => {
    const f = f32At.get(s.node);
    return f === undefined ? [] : [[s.node, f * 1000, (timed[1]!.best[i] ?? 0) * 1000] as const];
  });
  const lost = pairs.reduce((a, p) => a + Math.max(0, p[2] - p[1]), 0);
  const won = pairs.reduce((a, p) => a + Math.max(0, p[1] - p[2]), 0);
  console.log(`same nodes: ${pairs.length}, int8 slower by ${lost.toFixed(0)} us summed where slower, faster by ${won.toFixed(0)} us where faster; most lost: ${[...pairs].sort((a, b) => b[2] - b[1] - (a[2] - a[1])).slice(0, TOP).map(([n, f, q]) => `${n} ${f.toFixed(0)} -> ${q.toFixed(0)}`).join('; ')}`);
  await Promise.all(timed.map((t) => t.session.release()));
}
