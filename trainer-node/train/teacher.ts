// A given float teacher for --distill: a TF.js LayersModel folder (model.json + weights.bin), e.g.
// one written earlier by `kiln train --bits 32 --tfjs DIR`, checked against the dataset's shapes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fail } from '../../core/errors.ts';

export async function loadTfjsTeacher(dir: string, sampleShape: readonly number[], classes: number): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(dir, p)))));
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: bytes.buffer }));
  } catch (e) {
    return fail('INVALID_ARGUMENT', `cannot load the teacher from ${dir} (a TF.js model folder with model.json): ${(e as Error).message}`);
  }
  const inShape = model.inputs[0]!.shape.slice(1);
  const outShape = model.outputs[0]!.shape.slice(1);
  if (inShape.join() !== sampleShape.join() || outShape.join() !== String(classes)) {
    model.dispose();
    fail('INVALID_ARGUMENT', `teacher ${dir} maps [${inShape}] to [${outShape}]; the data needs [${sampleShape}] to [${classes}]`);
  }
  return model;
}
