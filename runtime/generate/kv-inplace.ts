// The session generate() decodes with when the cache can be written in place: the same model on the
// same backend with each Concat(past, new) -> present rewritten into KvCacheWrite(past, new, offset)
// (runtime/graph/passes/kv-cache-write.ts). The cache stays at its maximum length, the present IS
// the next past (fed back as it is: on WebGPU a pooled buffer bound in place), and nothing is
// shifted. Only sessions of this thread can be rewritten (browser sessions send generate() to the
// thread their core session lives in: generate-elsewhere.ts), and only graphs the pass recognizes;
// for the others generate() keeps its window (kv-window.ts). On WebGPU the presents stay on the GPU
// whatever the session's preferredOutputLocation: they only ever come back as the next pasts. On
// wasm the session carries them instead (derive's `carried`): each cache stays in the module's
// memory at its full length, the write goes into it at the offset, and a decode step feeds neither
// past nor fetches the presents, so nothing of the cache crosses to JS after the first decode step.
import { carriedBy, deriverOf } from '../api/derived-sessions.ts';
import type { InferenceSession } from '../api/inference-session.ts';
import { KV_OFFSET_INPUT, writeKvAtOffset } from '../graph/passes/kv-cache-write.ts';
import type { GenerateSession } from './generate.ts';
import type { KvPair } from './kv-names.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

export { KV_OFFSET_INPUT };

/** Benchmarks only (core/dev-knobs.ts): generate() feeds and fetches the cache every step (the path before carrying). */
const feedEachStep = (): boolean => devKnobs.KILN_KV_FEED_EACH_STEP === true;

/** The rewritten session for `session`, made once and released with it; undefined where the rewrite does not apply. */
export function inPlaceSession(session: GenerateSession, pairs: readonly KvPair[]): Promise<InferenceSession | undefined> {
  const derive = deriverOf(session);
  if (!derive) return Promise.resolve(undefined);
  const carried = feedEachStep() ? [] : pairs.map((p) => ({ input: p.past, output: p.present }));
  return derive(carried.length > 0 ? 'kv-cache-write' : 'kv-cache-write-fed', (graph) => writeKvAtOffset(graph, pairs), { gpuOutputs: pairs.map((p) => p.present), carried });
}

/** Whether `decoder` keeps the cache between runs (wasm): a decode step may leave the pasts out and fetch no present. */
export function carriesCache(decoder: object, pairs: readonly KvPair[]): boolean {
  const carried = carriedBy(decoder);
  return pairs.length > 0 && pairs.every((p) => carried.some((c) => c.input === p.past && c.output === p.present));
}
