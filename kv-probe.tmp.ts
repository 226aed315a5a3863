import { encodeOnnxModel } from './runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate, type GenerateSession } from './runtime/node.ts';
import { makeRng } from './test/helpers/rng-core.ts';
import { tinyGpt } from './test/helpers/tiny-gpt.ts';
const bytes = encodeOnnxModel(tinyGpt({ vocab: 256, embed: 128, heads: 4, layers: 2, maxPositions: 600 }, makeRng(20261203)));
const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const windowed = (x: InferenceSession): GenerateSession => ({ inputMetadata: x.inputMetadata, outputNames: x.outputNames, gpuDevice: x.gpuDevice, run: (f, o) => x.run(f, o) });
for (let r = 0; r < 2; r++) for (const [name, g] of [['inplace', s], ['window', windowed(s)]] as const) {
  const at: number[] = [];
  await generate(g, { inputIds: [1, 2, 3, 4, 5, 6, 7, 8], maxNewTokens: 513, onToken: () => void at.push(performance.now()) });
  const t = at.slice(1).map((x, i) => x - at[i]!);
  const sorted = [...t].sort((a, b) => b - a);
  console.log(name, 'total', t.reduce((a, b) => a + b, 0).toFixed(0), 't0', t[0]!.toFixed(1), 'top', sorted.slice(0, 6).map((x) => x.toFixed(1)).join(' '), 'median', sorted[256]!.toFixed(2));
}
await s.release();
