// Every op family, loaded at once: for docs/ops.md (kernels/coverage.ts), the op tests and code that
// must not wait for a chunk. Importing this module registers every lazy group (kernels/lazy-families.ts);
// the runtime never imports it, so the browser builds keep the groups in chunks of their own.
import type { OpDefinition } from './contract.ts';
import { definitions as core } from './definitions.ts';
import { registerLazyGroup, type LazyGroupName, type LazyOpGroup } from './lazy-families.ts';
import { group as quantized } from './lazy/ops-quantized.ts';
import { group as transformer } from './lazy/ops-transformer.ts';
import { group as sequence } from './lazy/ops-sequence.ts';
import { group as vision } from './lazy/ops-vision.ts';
import { group as signal } from './lazy/ops-signal.ts';
import { group as ml } from './lazy/ops-ml.ts';

export const LAZY_GROUPS: Readonly<Record<LazyGroupName, LazyOpGroup>> = { quantized, transformer, sequence, vision, signal, ml };
for (const [name, group] of Object.entries(LAZY_GROUPS)) registerLazyGroup(name as LazyGroupName, group);

/** Every op: the core families, then each lazy group's. */
export const allDefinitions: readonly OpDefinition[] = [...core, ...Object.values(LAZY_GROUPS).flatMap((g) => g.definitions)];
