// Accuracy measured the way users will run the model: Kiln's own runtime on the exported bytes
// (.kiln or ONNX), not TF.js.
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { accuracyOf } from '../train/trainer.ts';
import { INPUT_NAME, OUTPUT_NAME, toNchw } from './onnx-graph.ts';

export async function kilnLogits(bytes: Uint8Array, data: Pick<Dataset, 'sampleShape'>, split: Split, batchSize = 1000): Promise<Float32Array> {
  const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    const size = data.sampleShape.reduce((a, b) => a * b, 1);
    const dims = data.sampleShape.length === 3 ? [data.sampleShape[2]!, data.sampleShape[0]!, data.sampleShape[1]!] : [...data.sampleShape];
    const chunks: Float32Array[] = [];
    for (let s = 0; s < split.n; s += batchSize) {
      const n = Math.min(batchSize, split.n - s);
      const x = toNchw(split.x.slice(s * size, (s + n) * size), n, data.sampleShape);
      const out = await session.run({ [INPUT_NAME]: new Tensor('float32', x, [n, ...dims]) });
      chunks.push(out[OUTPUT_NAME]!.data as Float32Array);
    }
    const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  } finally {
    await session.release();
  }
}

export async function kilnAccuracy(bytes: Uint8Array, data: Pick<Dataset, 'sampleShape'>, split: Split): Promise<number> {
  return accuracyOf(await kilnLogits(bytes, data, split), split.y);
}
