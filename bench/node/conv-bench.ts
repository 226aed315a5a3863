// `node --import tsx bench/node/conv-bench.ts [runs] [size] [channels]`: GFLOP/s medians of one 3x3 Conv
// (default 64->64 channels, 56x56, batch 1, pads 1) on Kiln WebGPU (Dawn; SwiftShader when
// VK_ICD_FILENAMES points at it and no GPU exists) and Kiln CPU. Also a 1x1, a depthwise and a
// 4x4 stride-2 ConvTranspose (upsampling) layer. Whole session runs: upload, kernel, readback.
import { existsSync } from 'node:fs';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const runs = Math.max(5, Number(process.argv[2] ?? 7));
const size = Number(process.argv[3] ?? 56);
const ch = Number(process.argv[4] ?? 64);
const only = process.env.CONV_BENCH_ONLY; // e.g. "3x3" to skip the other layers

const random = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * scale);

interface Layer {
  readonly name: string;
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly group: number;
  /** ConvTranspose 4x4 stride 2 (output 2 * size) */
  readonly transpose?: boolean;
}

function model(l: Layer): Uint8Array {
  const attrs: Record<string, WriterAttribute> = l.transpose ? { kernel_shape: [l.k, l.k], pads: [1, 1, 1, 1], strides: [2, 2] } : { kernel_shape: [l.k, l.k], pads: new Array<number>(4).fill(l.k >> 1), group: l.group };
  const out = l.transpose ? 2 * size : size;
  return encodeOnnxModel({
    nodes: [{ opType: l.transpose ? 'ConvTranspose' : 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, l.cin, size, size] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, l.cout, out, out] }],
    initializers: {
      w: new Tensor('float32', random((l.cout * l.cin * l.k * l.k) / l.group, 0.1), l.transpose ? [l.cin, l.cout, l.k, l.k] : [l.cout, l.cin / l.group, l.k, l.k]),
      b: new Tensor('float32', random(l.cout), [l.cout]),
    },
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(l: Layer, ep: 'webgpu' | 'cpu'): Promise<string> {
  const session = await InferenceSession.create(model(l), { executionProviders: [ep] });
  const x = new Tensor('float32', random(l.cin * size * size), [1, l.cin, size, size]);
  // ConvTranspose: the multiply-adds that reach the output (every input pixel x every tap)
  const flops = 2 * l.cout * (l.cin / l.group) * l.k * l.k * size * size;
  try {
    await session.run({ x }); // warm-up: pipelines, buffers, JIT
    if (session.lastPlacement && session.lastPlacement.cpu > 0 && ep === 'webgpu') return `${l.name} ${ep}: fell back to the CPU`;
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run({ x });
      ms.push(performance.now() - t0);
    }
    const m = median(ms);
    return `${l.name.padEnd(28)} ${ep.padEnd(7)} median ${m.toFixed(1).padStart(8)} ms  ${(flops / m / 1e6).toFixed(2).padStart(7)} GFLOP/s  (${runs} runs: ${ms.map((v) => v.toFixed(0)).join(' ')})`;
  } finally {
    await session.release();
  }
}

const layers: Layer[] = [
  { name: `conv3x3 ${ch}->${ch} ${size}x${size}`, cin: ch, cout: ch, k: 3, group: 1 },
  { name: `conv1x1 ${ch}->${ch} ${size}x${size}`, cin: ch, cout: ch, k: 1, group: 1 },
  { name: `depthwise3x3 ${ch} ${size}x${size}`, cin: ch, cout: ch, k: 3, group: ch },
  { name: `convT4x4s2 ${ch}->${ch / 2} ${size}x${size}`, cin: ch, cout: ch / 2, k: 4, group: 1, transpose: true },
];
for (const l of layers) {
  if (only && !l.name.startsWith(only)) continue;
  for (const ep of ['webgpu', 'cpu'] as const) console.log(await measure(l, ep));
}
