// The tabular model's features as the page shows them: names, slider ranges in raw units, and how
// to draw realistic traffic. Everything comes from the bundle (feature names, preprocessing, drift
// reference); Iris defaults fill in for a model without that information.
import type { InputSpec } from '../../../runtime/format/kiln/bundle-spec.ts';
import type { FeatureReference, NumericFeatureReference } from '../../../runtime/telemetry/drift/drift-reference.ts';
import { unpreprocess } from '../models/preprocess.ts';

export interface FeatureInfo {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  /** the drift reference of this column (model units), if the bundle has one */
  readonly reference?: NumericFeatureReference;
}

const IRIS: readonly { name: string; min: number; max: number; mean: number }[] = [
  { name: 'sepal length (cm)', min: 4.3, max: 7.9, mean: 5.84 },
  { name: 'sepal width (cm)', min: 2.0, max: 4.4, mean: 3.06 },
  { name: 'petal length (cm)', min: 1.0, max: 6.9, mean: 3.76 },
  { name: 'petal width (cm)', min: 0.1, max: 2.5, mean: 1.2 },
];

function columnReference(refs: readonly FeatureReference[] | undefined, tensor: string, index: number): NumericFeatureReference | undefined {
  const columns = (refs ?? []).filter((r): r is NumericFeatureReference => r.type === 'numeric' && r.source.kind === 'column' && r.source.index === index);
  return columns.find((r) => r.source.kind === 'column' && r.source.tensor === tensor) ?? columns[0];
}

export function featuresOf(count: number, spec: InputSpec | undefined, tensor: string, refs: readonly FeatureReference[] | undefined): FeatureInfo[] {
  return Array.from({ length: count }, (_, i): FeatureInfo => {
    const reference = columnReference(refs, tensor, i);
    const iris = count === IRIS.length ? IRIS[i] : undefined;
    const name = (spec?.featureNames?.[i] ?? reference?.name ?? iris?.name ?? `feature ${i + 1}`).replace(/_/g, ' ');
    if (reference) {
      const lo = unpreprocess(reference.min, i, spec?.preprocessing);
      const hi = unpreprocess(reference.max, i, spec?.preprocessing);
      return { name, min: Math.min(lo, hi), max: Math.max(lo, hi), initial: unpreprocess(reference.mean, i, spec?.preprocessing), reference };
    }
    if (spec?.preprocessing?.kind === 'standardize') {
      const mean = unpreprocess(0, i, spec.preprocessing);
      const std = unpreprocess(1, i, spec.preprocessing) - mean;
      return { name, min: mean - 2.5 * std, max: mean + 2.5 * std, initial: mean };
    }
    return iris ? { name, min: iris.min, max: iris.max, initial: iris.mean } : { name, min: 0, max: 1, initial: 0.5 };
  });
}
