// Text generation for decoder-only ONNX models with past key/values (Optimum and onnxruntime-genai
// naming): one prefill run over the prompt, then one run per new token (generate-here.ts: the loop,
// the KV cache written in place or kept in a window). This file is what the page bundles hold: the
// options are checked here, then the loop runs where the session's core lives. A browser session
// (in a worker, or kiln.core.mjs in this thread) hands generation to that side
// (generate-elsewhere.ts), so the cache never crosses to the page and the in-place path applies
// there; any other session with run() gets the loop in this thread, loaded on first use from the
// runtime's bundle.
import { fail } from '../../core/errors.ts';
import type { GpuDevice } from '../../core/tensor.ts';
import type { FeedsType, InputMetadata, ReturnType } from '../api/inference-session.ts';
import { generateLoop, generatorOf } from './generate-elsewhere.ts';
import type { SamplingOptions } from './sampling.ts';

/** What generate() needs of a session: the core one, the browser one (worker or not) both fit. */
export interface GenerateSession {
  readonly inputMetadata: readonly InputMetadata[];
  readonly outputNames: readonly string[];
  readonly gpuDevice?: GpuDevice | undefined;
  run(feeds: FeedsType, fetches?: readonly string[]): Promise<ReturnType>;
}

export interface GenerateOptions extends SamplingOptions {
  /** the prompt's token ids */
  readonly inputIds: readonly number[];
  readonly maxNewTokens: number;
  /** sampling's seed (default: a random one); the same seed gives the same tokens */
  readonly seed?: number;
  /** called with each new token as soon as it is chosen (awaited when it returns a promise) */
  readonly onToken?: (token: number, index: number) => void | Promise<void>;
  /** stops generation; generate() rejects with KilnError 'ABORTED' (its details hold the tokens so far) */
  readonly signal?: AbortSignal;
  /** generation stops after any of these (it is included in the tokens) */
  readonly eosTokenId?: number | readonly number[];
}

export interface GenerateResult {
  /** the new tokens */
  readonly tokens: number[];
  /** prompt and new tokens */
  readonly sequence: number[];
  readonly finishReason: 'eos' | 'length';
  /**
   * 'inplace': the cache at its full length, each token's keys/values written at its position, one
   * plan for every decode step; 'window': fixed-size cache shifted by one slot per step, one plan;
   * 'grow': presents fed back as pasts; 'none': the model has no past inputs, so each step
   * recomputes the sequence
   */
  readonly cache: 'inplace' | 'window' | 'grow' | 'none';
}

export async function generate(session: GenerateSession, options: GenerateOptions): Promise<GenerateResult> {
  checkOptions(options);
  const elsewhere = generatorOf(session);
  if (elsewhere) return elsewhere(options);
  const load = generateLoop() ?? fail('INTERNAL', 'generate: no Kiln runtime is loaded in this bundle');
  return (await load()).generateHere(session, options);
}

function checkOptions(o: GenerateOptions): void {
  const bad = (what: string): never => fail('INVALID_ARGUMENT', `generate: ${what}`);
  if (typeof o !== 'object' || o === null) bad('options are required');
  if (!Array.isArray(o.inputIds) || o.inputIds.length === 0 || !o.inputIds.every((t) => Number.isInteger(t) && t >= 0)) bad('inputIds must be a non-empty array of non-negative integer token ids');
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) bad(`maxNewTokens must be a positive integer, got ${String(o.maxNewTokens)}`);
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature))) bad(`temperature must be a finite number >= 0, got ${String(o.temperature)}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) bad(`topK must be an integer >= 0, got ${String(o.topK)}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad(`topP must be in (0, 1], got ${String(o.topP)}`);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32)) bad(`seed must be an integer in [0, 2^32), got ${String(o.seed)}`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) bad('signal must be an AbortSignal');
}
