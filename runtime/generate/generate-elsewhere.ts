// Sessions whose generation runs somewhere else: a browser session's core lives in its worker, or
// in kiln.core.mjs (another bundle, with its own registry of derivable sessions), so the page's
// generate() hands the whole loop to that side, where the KV cache can be written in place and stay
// on the GPU; only options, tokens and the result cross. Looked up by object, like
// derived-sessions.ts, so generate() need not import the browser front-end.
// The loop itself (generate-here.ts) is registered the same way, by the bundle that holds a runtime:
// the core session's module (Node, kiln.core.mjs, the worker) or the browser front-end (which loads
// kiln.core.mjs for it), so the page bundle never carries it.
import type { GenerateOptions, GenerateResult, GenerateSession } from './generate.ts';

export type Loop = () => Promise<{ generateHere(session: GenerateSession, options: GenerateOptions): Promise<GenerateResult> }>;

let loop: Loop | undefined;

export function setGenerateLoop(l: Loop): void {
  loop = l;
}

export function generateLoop(): Loop | undefined {
  return loop;
}

export type Generator = (options: GenerateOptions) => Promise<GenerateResult>;

const generators = new WeakMap<object, Generator>();

export function registerGenerator(session: object, generator: Generator): void {
  generators.set(session, generator);
}

export function generatorOf(session: object): Generator | undefined {
  return generators.get(session);
}
