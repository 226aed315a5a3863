// Simulated visitors for the tabular model: raw rows drawn like the training data (from the bundle's
// drift reference histograms when it has them), optionally shifted by `shift` standard deviations
// per feature. This is what makes drift visible: unshifted traffic matches the reference, shifted
// traffic does not.
import type { Preprocessing } from '../../../runtime/format/kiln/bundle-spec.ts';
import type { NumericFeatureReference } from '../../../runtime/telemetry/drift/drift-reference.ts';
import { unpreprocess } from '../models/preprocess.ts';
import type { FeatureInfo } from './features.ts';

/** One value in model units from a reference histogram: a bin by its count, then uniform inside it. */
function sampleReference(r: NumericFeatureReference): number {
  const total = r.counts.reduce((a, b) => a + b, 0);
  let pick = Math.random() * total;
  let bin = 0;
  while (bin < r.counts.length - 1 && pick >= r.counts[bin]!) pick -= r.counts[bin++]!;
  const lo = bin === 0 ? r.min : r.edges[bin - 1]!;
  const hi = bin === r.edges.length ? r.max : r.edges[bin]!;
  return lo + Math.random() * Math.max(0, hi - lo);
}

export function sampleRow(features: readonly FeatureInfo[], preprocessing: Preprocessing | undefined, shift: number): Float32Array {
  return Float32Array.from(features, (f, i) => {
    if (f.reference) {
      const t = sampleReference(f.reference);
      const std = unpreprocess(f.reference.mean + f.reference.std, i, preprocessing) - unpreprocess(f.reference.mean, i, preprocessing);
      return unpreprocess(t, i, preprocessing) + shift * std;
    }
    const raw = f.min + Math.random() * (f.max - f.min);
    return raw + (shift * (f.max - f.min)) / 4;
  });
}
