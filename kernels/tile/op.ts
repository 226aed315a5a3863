// Transitional shim: the family's definitions from legacy.ts until it is split (see kernels/legacy-adapter.ts).
import { legacyDefinitions } from '../legacy-adapter.ts';
import { kernels } from './legacy.ts';

export const definitions = legacyDefinitions(kernels);
