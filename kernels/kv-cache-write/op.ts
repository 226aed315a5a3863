import type { OpDefinition } from '../contract.ts';
import { kvCacheAttention } from './attention-op.ts';
import { kvCacheWrite } from './write-op.ts';

// generate()'s in-place KV cache (runtime/graph/passes/kv-cache-write.ts puts them in a decode
// graph): the write at a run-time offset, and attention over the part of the cache written so far.
export const definitions: readonly OpDefinition[] = [kvCacheWrite, kvCacheAttention];
