// Sessions of this thread that can run a rewritten copy of their graph (InferenceSession.derive),
// looked up by object: generate() also sees worker sessions and is in the page bundle, so it must
// not import the session class (and with it every backend) to ask.
import type { Graph } from '../graph/ir.ts';
import type { InferenceSession } from './inference-session.ts';

/** gpuOutputs: outputs the derived session leaves on the GPU (WebGPU) besides the session's own choice */
export type Deriver = (key: string, rewrite: (graph: Graph) => Graph | undefined, gpuOutputs?: readonly string[]) => Promise<InferenceSession | undefined>;

const derivers = new WeakMap<object, Deriver>();

export function registerDeriver(session: object, deriver: Deriver): void {
  derivers.set(session, deriver);
}

/** How to derive from `session`, or undefined for sessions that cannot (in a worker, or not Kiln's). */
export function deriverOf(session: object): Deriver | undefined {
  return derivers.get(session);
}
