// Built-in architectures and their defaults. The CNN is the 2-conv MNIST network of DESIGN.md
// section 8 (16 and 32 filters) with BatchNorm (folded before QAT) and a 128-unit hidden layer.
import type { LayerSpec } from './net.ts';

export type Arch = 'mlp' | 'cnn';

export function layersFor(arch: Arch, kind: 'image' | 'tabular', classes: number): LayerSpec[] {
  if (arch === 'cnn') {
    return [
      { kind: 'conv', filters: 16, kernel: 3 }, { kind: 'bn' }, { kind: 'relu' }, { kind: 'maxpool', size: 2 },
      { kind: 'conv', filters: 32, kernel: 3 }, { kind: 'bn' }, { kind: 'relu' }, { kind: 'maxpool', size: 2 },
      { kind: 'flatten' }, { kind: 'dense', units: 128 }, { kind: 'bn' }, { kind: 'relu' }, { kind: 'dense', units: classes },
    ];
  }
  const flatten: LayerSpec[] = kind === 'image' ? [{ kind: 'flatten' }] : [];
  const hidden = kind === 'image' ? [256, 128] : [32, 16];
  return [...flatten, ...hidden.flatMap((units): LayerSpec[] => [{ kind: 'dense', units }, { kind: 'bn' }, { kind: 'relu' }]), { kind: 'dense', units: classes }];
}

export interface RecipeDefaults {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
}

export function defaultsFor(arch: Arch, kind: 'image' | 'tabular', trainRows: number): RecipeDefaults {
  if (kind === 'tabular') return { epochs: trainRows < 1000 ? 100 : 20, batchSize: Math.min(32, trainRows), learningRate: 1e-2 };
  return arch === 'cnn' ? { epochs: 3, batchSize: 128, learningRate: 3e-3 } : { epochs: 6, batchSize: 128, learningRate: 2e-3 };
}

/** QAT fine-tuning takes the last third of the epochs (at least one); float training the rest. */
export function splitEpochs(epochs: number, quantized: boolean): { float: number; qat: number } {
  if (!quantized) return { float: epochs, qat: 0 };
  const qat = Math.max(1, Math.round(epochs / 3));
  return { float: Math.max(1, epochs - qat), qat };
}
