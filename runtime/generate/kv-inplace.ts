// The session generate() decodes with when the cache can be written in place: the same model on the
// same backend with each Concat(past, new) -> present rewritten into KvCacheWrite(past, new, offset)
// (runtime/graph/passes/kv-cache-write.ts). The cache stays at its maximum length, the present IS
// the next past (fed back as it is: on WebGPU a pooled buffer bound in place), and nothing is
// shifted. Only sessions of this thread can be rewritten (browser sessions send generate() to the
// thread their core session lives in: generate-elsewhere.ts), and only graphs the pass recognizes;
// for the others generate() keeps its window (kv-window.ts). On WebGPU the presents stay on the GPU
// whatever the session's preferredOutputLocation: they only ever come back as the next pasts.
import { deriverOf } from '../api/derived-sessions.ts';
import type { InferenceSession } from '../api/inference-session.ts';
import { KV_OFFSET_INPUT, writeKvAtOffset } from '../graph/passes/kv-cache-write.ts';
import type { GenerateSession } from './generate.ts';
import type { KvPair } from './kv-names.ts';

export { KV_OFFSET_INPUT };

/** The rewritten session for `session`, made once and released with it; undefined where the rewrite does not apply. */
export function inPlaceSession(session: GenerateSession, pairs: readonly KvPair[]): Promise<InferenceSession | undefined> {
  const derive = deriverOf(session);
  return derive ? derive('kv-cache-write', (graph) => writeKvAtOffset(graph, pairs), pairs.map((p) => p.present)) : Promise.resolve(undefined);
}
