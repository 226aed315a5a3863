// `node --import tsx bench/node/qdq-parity.ts [seed] [inputs] [cpu|webgpu ...]`: Kiln vs
// onnxruntime-web wasm on the QDQ MobileNetV3-like network (test/helpers/mobilenet-qdq.ts) and on
// seeded inputs: max |diff| in output quantization steps, relative error, top-5 agreement.
import { existsSync } from 'node:fs';
import { agreement, buildParityModel, describe, parityInputs, runKiln, runOrt } from '../../test/helpers/qdq-parity.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= '/tmp';

const seed = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 16);
const eps = process.argv.slice(4).length ? (process.argv.slice(4) as ('js' | 'wasm' | 'webgpu')[]) : (['js', 'wasm', 'webgpu'] as const);
const m = await buildParityModel(seed);
const inputs = parityInputs(seed, count);
const want = await runOrt(m.qdq, inputs);
console.log(`seed ${seed}, ${count} inputs, output step ${m.step.toExponential(3)}, QDQ model ${m.qdq.length} bytes`);
for (const ep of eps) {
  const got = await runKiln(m.qdq, ep, inputs);
  console.log(`kiln ${ep}: ${describe(agreement(got.out, want, m.step))} (steps on the CPU: ${got.cpuSteps})`);
}
