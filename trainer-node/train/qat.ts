// Which quantization each layer gets, and the switch from float training to QAT.
import type { WeightScheme } from './fake-quant.ts';
import { paramLayers, type Net } from './net.ts';

export type Bits = 32 | 8 | 4;

/** int4 blocks along the reduction axis of dense weights: 64 rows share one f32 scale per column. */
export const INT4_BLOCK = 64;

/**
 * int8: every weight per-channel symmetric. int4: dense weights block-wise (64 along k, per column),
 * conv weights per output channel; the first layer stays int8 (its few weights see raw pixels and
 * cost nothing to keep precise: 144 bytes in the MNIST CNN).
 */
export function assignSchemes(net: Net, bits: Exclude<Bits, 32>): void {
  paramLayers(net).forEach((l, i) => {
    if (bits === 8 || i === 0) l.scheme = { kind: 'per-channel', bits: 8 };
    else if (l.kind === 'dense' && l.w.shape[0]! >= INT4_BLOCK) l.scheme = { kind: 'block', bits: 4, blockSize: INT4_BLOCK };
    else l.scheme = { kind: 'per-channel', bits: 4 };
  });
}

export function describeScheme(s: WeightScheme | undefined): string {
  if (!s) return 'float32';
  return s.kind === 'block' ? `int${s.bits} blocks of ${s.blockSize}` : `int${s.bits} per-channel`;
}
