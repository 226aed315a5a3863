// `node --import tsx bench/node/qdq-tie.ts [seed]`: Kiln (CPU, WebGPU) vs onnxruntime-web on the
// requantization-tie models of test/helpers/qdq-tie-conv.ts (Conv and Gemm); also onnxruntime with
// its graph optimizations off (plain DequantizeLinear -> float op -> QuantizeLinear) to show which
// groups onnxruntime fuses into integer kernels.
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { tieModel, type TieOp } from '../../test/helpers/qdq-tie-conv.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= '/tmp';
ort.env.wasm.numThreads = 1;

const seed = Number(process.argv[2] ?? 1);
const count = (a: Float32Array, b: Float32Array, step: number): string => {
  let n = 0, max = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { n++; max = Math.max(max, Math.abs(a[i]! - b[i]!) / step); }
  return `${n}/${a.length} differ (max ${max.toFixed(0)} steps)`;
};
async function main(): Promise<void> {
  const ops = (process.argv.slice(3).length ? process.argv.slice(3) : ['Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'GlobalAveragePool']) as TieOp[];
  for (const op of ops) {
    const { model, dims, input, step } = tieModel(op, seed);
    const ortOut: Record<string, Float32Array> = {};
    for (const level of ['disabled', 'all'] as const) {
      const s = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: level });
      ortOut[level] = (await s.run({ x: new ort.Tensor('float32', input, dims) })).out!.data as Float32Array;
      await s.release();
    }
    console.log(`${op} seed ${seed}: onnxruntime unoptimized vs optimized: ${count(ortOut.disabled!, ortOut.all!, step)}`);
    for (const ep of ['cpu', 'webgpu'] as const) {
      const s = await InferenceSession.create(model, { executionProviders: [ep] });
      const got = (await s.run({ x: new Tensor('float32', input, dims) })).out!.data as Float32Array;
      await s.release();
      console.log(`  kiln ${ep} vs onnxruntime: ${count(got, ortOut.all!, step)}`);
    }
  }
}
void main();
