// `node --import tsx bench/node/int8-step-profile.ts`: the steps Kiln's wasm backend runs for the
// int8 CNNs and their float twins (bench/node/int8-twins.ts), counts per op type, to see where the
// int8 graphs have more steps than the float ones. Per-step times: wasm-step-times.ts.
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { int8Twins } from './int8-twins.ts';

const rand = seededRandom(20261203);

async function profile(name: string, bytes: Uint8Array, dims: readonly number[]): Promise<void> {
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  const x = uniform(rand, dims.reduce((a, d) => a * d, 1), 1);
  await s.run({ [s.inputNames[0]!]: new Tensor('float32', x, [...dims]) });
  const steps = s.lastPlacement?.steps ?? [];
  const counts = new Map<string, number>();
  for (const st of steps) counts.set(`${st.opType}@${st.implementation}`, (counts.get(`${st.opType}@${st.implementation}`) ?? 0) + 1);
  console.log(`${name}: ${steps.length} steps: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await s.release();
}

for (const t of await int8Twins(rand)) {
  await profile(`${t.name} f32`, t.f32, t.dims);
  await profile(`${t.name} int8`, t.int8, t.dims);
}
