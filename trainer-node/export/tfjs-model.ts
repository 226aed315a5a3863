// The trained network as a TF.js LayersModel (model.json + weights.bin, loadable with
// tf.loadLayersModel): same layers, with the weights the exported bundle dequantizes to. TF.js has
// no QuantizeLinear layer, so activations stay float there; the .kiln/ONNX are the quantized model.
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.ts';
import { quantizeWeight } from '../train/fake-quant.ts';
import type { Net } from '../train/net.ts';

export interface TfjsArtifacts {
  readonly modelJson: string;
  readonly weights: Uint8Array;
}

export async function tfjsModelArtifacts(net: Net, data: Pick<Dataset, 'sampleShape'>): Promise<TfjsArtifacts> {
  const model = tf.sequential();
  const weights: tf.Tensor[] = [];
  let first = true;
  const inputShape = (): { inputShape?: number[] } => (first ? ((first = false), { inputShape: [...data.sampleShape] }) : {});
  for (const l of net.layers) {
    if (l.kind === 'conv' || l.kind === 'dense') {
      const masked = l.mask ? tf.mul(l.w, l.mask) : l.w.clone();
      let w = masked;
      if (net.quantized && l.scheme) {
        const q = quantizeWeight(masked, l.scheme);
        w = q.dequantized;
        tf.dispose([q.q, q.scale, masked]);
      }
      weights.push(w, l.b.clone());
      model.add(l.kind === 'conv'
        ? tf.layers.conv2d({ ...inputShape(), filters: l.w.shape[3]!, kernelSize: [l.w.shape[0]!, l.w.shape[1]!], strides: l.stride, padding: 'same', name: l.name })
        : tf.layers.dense({ ...inputShape(), units: l.w.shape[1]!, name: l.name }));
    } else if (l.kind === 'relu') model.add(tf.layers.reLU({ ...inputShape(), name: l.name }));
    else if (l.kind === 'maxpool') model.add(tf.layers.maxPooling2d({ ...inputShape(), poolSize: l.size, strides: l.size, padding: 'valid', name: l.name }));
    else if (l.kind === 'flatten') model.add(tf.layers.flatten({ ...inputShape(), name: l.name }));
    else throw new Error(`${l.name}: fold BatchNorm before exporting`);
  }
  model.setWeights(weights);
  tf.dispose(weights);
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    captured = a;
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
  if (!captured?.weightData || !captured.weightSpecs) throw new Error('TF.js did not hand over the model artifacts');
  const bytes = captured.weightData instanceof ArrayBuffer ? new Uint8Array(captured.weightData) : new Uint8Array(await new Blob(captured.weightData).arrayBuffer());
  const modelJson = JSON.stringify({
    format: 'layers-model',
    generatedBy: captured.generatedBy,
    convertedBy: 'kiln train',
    modelTopology: captured.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: captured.weightSpecs }],
  });
  return { modelJson, weights: bytes };
}
