// Sessions of this thread that can run a rewritten copy of their graph (InferenceSession.derive),
// looked up by object: generate() also sees worker sessions and is in the page bundle, so it must
// not import the session class (and with it every backend) to ask.
import type { Graph } from '../graph/ir.ts';
import type { InferenceSession } from './inference-session.ts';

/** An input a run may leave out, then taking what the previous run wrote into `output` (the backend keeps it). */
export interface CarriedPair {
  readonly input: string;
  readonly output: string;
}

export interface DeriveOptions {
  /** outputs the derived session leaves on the GPU (WebGPU) besides the session's own choice */
  readonly gpuOutputs?: readonly string[];
  /** honoured where the backend keeps values between runs (wasm); carriedBy() says whether it was */
  readonly carried?: readonly CarriedPair[];
}

export type Deriver = (key: string, rewrite: (graph: Graph) => Graph | undefined, options?: DeriveOptions) => Promise<InferenceSession | undefined>;

const derivers = new WeakMap<object, Deriver>();
const carriers = new WeakMap<object, readonly CarriedPair[]>();

/** A derived session records what it carries between runs (InferenceSession.derive). */
export function registerCarried(session: object, pairs: readonly CarriedPair[]): void {
  carriers.set(session, pairs);
}

/** The inputs `session` carries from one run to the next (empty: every input is fed each run). */
export function carriedBy(session: object): readonly CarriedPair[] {
  return carriers.get(session) ?? [];
}

export function registerDeriver(session: object, deriver: Deriver): void {
  derivers.set(session, deriver);
}

/** How to derive from `session`, or undefined for sessions that cannot (in a worker, or not Kiln's). */
export function deriverOf(session: object): Deriver | undefined {
  return derivers.get(session);
}
