// Tabular rows -> a Dataset: seeded train/test split, then standardization with the training
// rows' statistics (recorded as the bundle's preprocessing so a page can apply it).
import { fail } from '../../core/errors.ts';
import { splitRows, standardizeInPlace, type Dataset } from './dataset.ts';
import { createRng } from './rng.ts';

export interface TabularRows {
  readonly name: string;
  readonly featureNames: readonly string[];
  /** one entry per row, featureNames.length numbers each */
  readonly features: readonly (readonly number[])[];
  /** class name per row */
  readonly labels: readonly string[];
}

export function tabularDataset(rows: TabularRows, seed: number, testFraction = 0.2): Dataset {
  const f = rows.featureNames.length;
  const n = rows.features.length;
  const classes = [...new Set(rows.labels)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (n < 4) fail('INVALID_ARGUMENT', `${rows.name}: ${n} rows is too few to train and test on`);
  if (classes.length < 2) fail('INVALID_ARGUMENT', `${rows.name}: the label column has ${classes.length} distinct value(s); a classifier needs at least 2`);
  const x = new Float32Array(n * f);
  rows.features.forEach((r, i) => x.set(r, i * f));
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(rows.labels, (l) => index.get(l)!);
  const { train, test } = splitRows({ x, y, n }, f, testFraction, createRng(seed ^ 0x5eed));
  const { mean, std } = standardizeInPlace(train, test, f);
  return { name: rows.name, kind: 'tabular', sampleShape: [f], classes, featureNames: rows.featureNames, preprocessing: { kind: 'standardize', mean, std }, train, test };
}
