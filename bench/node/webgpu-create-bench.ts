// `node --import tsx bench/node/webgpu-create-bench.ts`: what creating a WebGPU session of the
// MobileNetV3-like model costs, float32 and int8 QDQ (bench/node/int8-twins.ts): the first session
// (every pipeline compiled) and a second one while the first is alive (pipelines taken from the
// shared device: docs/decisions.md shared-gpu-device, int8-as-float). Wall ms, load average beside.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom } from '../page/seeded.ts';
import { int8Twins } from './int8-twins.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const twin = (await int8Twins(seededRandom(20261204)))[0]!;
console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
console.log('| model | first create ms | second create ms (first alive) | pipelines compiled / reused |');
console.log('|---|---|---|---|');
for (const [variant, bytes] of [['float32', twin.f32], ['int8', twin.int8]] as const) {
  let t = performance.now();
  const first = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  const firstMs = performance.now() - t;
  t = performance.now();
  const second = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  const secondMs = performance.now() - t;
  const c = first.pipelineCompiles;
  const reused = second.pipelineCompiles?.reused ?? 0;
  console.log(`| ${twin.name} ${variant} | ${firstMs.toFixed(0)} | ${secondMs.toFixed(0)} | ${c ? c.onDemand + c.ahead : 0} / ${reused} |`);
  await first.release();
  await second.release();
}
