// generate()'s loop (generate.ts checks the options and decides where it runs): the prefill run over
// the prompt, then one run per new token. When the model takes attention_mask and position_ids,
// every decode step runs one plan: on a Kiln session of this thread whose presents are
// Concat(past, new), the cache is written in place at the token's position (kv-inplace.ts: a
// rewritten copy of the session, the present fed straight back as the next past); otherwise it is a
// fixed window (kv-window.ts) shifted by one slot per step. Models without those inputs feed each
// present back as the next past (a plan per length). On a WebGPU session the in-place cache never
// leaves the GPU (the window's only with preferredOutputLocation 'gpu-buffer' for the presents); on
// wasm it never leaves the module's memory after the first decode step (the decoder carries it).
import { halfToFloat } from '../../core/float16.ts';
import { fail } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { InputMetadata } from '../api/inference-session.ts';
import type { GenerateOptions, GenerateResult, GenerateSession } from './generate.ts';
import { KV_OFFSET_INPUT, carriesCache, inPlaceSession } from './kv-inplace.ts';
import { findKvPairs, type KvPair } from './kv-names.ts';
import { KvWindow } from './kv-window.ts';
import { pickToken, seededUniform } from './sampling.ts';

/** The loop, on a session whose options generate() has checked. */
export async function generateHere(session: GenerateSession, options: GenerateOptions): Promise<GenerateResult> {
  const { inputIds, maxNewTokens, signal } = options;
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const ids = inputs.get('input_ids') ?? fail('INVALID_MODEL', `generate: the model has no 'input_ids' input; its inputs are ${[...inputs.keys()].join(', ')}`);
  if (!session.outputNames.includes('logits')) fail('INVALID_MODEL', `generate: the model has no 'logits' output; its outputs are ${session.outputNames.join(', ')}`);
  const pairs = findKvPairs([...inputs.keys()], session.outputNames);
  const mask = inputs.get('attention_mask');
  const positions = inputs.get('position_ids');
  const others = [...inputs.keys()].filter((n) => n !== 'input_ids' && n !== mask?.name && n !== positions?.name && !pairs.some((p) => p.past === n));
  if (others.length > 0) fail('UNSUPPORTED_FEATURE', `generate: the model also takes ${others.join(', ')}, which generate() does not know how to feed`);
  const fixed = pairs.length > 0 && mask !== undefined && positions !== undefined;
  const decoder = fixed ? await inPlaceSession(session, pairs) : undefined;
  const cache: GenerateResult['cache'] = pairs.length === 0 ? 'none' : decoder ? 'inplace' : fixed ? 'window' : 'grow';
  // The decoder's memory holds one cache per plan: a second generation while this one runs feeds its own each step.
  const carries = decoder !== undefined && carriesCache(decoder, pairs) && !carrying.has(decoder);
  const shapes = new Map(pairs.map((p) => [p.past, pastShape(inputs.get(p.past)!)]));
  const intTensor = (name: string, values: readonly number[], dims: readonly number[]): AnyTensor => {
    const type = inputs.get(name)!.type;
    if (type === 'int64') return new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
    if (type === 'int32') return new Tensor('int32', Int32Array.from(values), dims);
    return fail('UNSUPPORTED_FEATURE', `generate: input '${name}' is ${type}; generate() feeds int64 or int32`);
  };
  /** [1, total] of zeros with ones in [from, to): the attention mask, made by typed fills (a token's step feeds one of up to max-length entries) */
  const ones = (name: string, total: number, from: number, to: number): AnyTensor => {
    const type = inputs.get(name)!.type;
    if (type === 'int64') return new Tensor('int64', new BigInt64Array(total).fill(1n, from, to), [1, total]);
    if (type === 'int32') return new Tensor('int32', new Int32Array(total).fill(1, from, to), [1, total]);
    if (type === 'float32') return new Tensor('float32', new Float32Array(total).fill(1, from, to), [1, total]); // some GPT-2 exports: 1.0 attend, 0.0 not
    if (type === 'float16') return new Tensor('float16', new Uint16Array(total).fill(0x3c00, from, to), [1, total]); // 0x3c00: 1.0 in binary16
    return fail('UNSUPPORTED_FEATURE', `generate: input '${name}' is ${type}; generate() feeds an attention mask as int64, int32, float32 or float16`);
  };
  const emptyPast = (p: KvPair): AnyTensor => {
    const { lead, headDim, type } = shapes.get(p.past)!;
    return new Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [...lead, 0, headDim]);
  };

  const uniform = seededUniform(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const eos = new Set(options.eosTokenId === undefined ? [] : typeof options.eosTokenId === 'number' ? [options.eosTokenId] : options.eosTokenId);
  const sequence = [...inputIds];
  const tokens: number[] = [];
  const fetches = ['logits', ...pairs.map((p) => p.present)];
  const slots = inputIds.length + maxNewTokens - 1;
  const windows = new Map<string, KvWindow>(cache === 'window' || cache === 'inplace' ? pairs.map((p) => [p.past, new KvWindow(shapes.get(p.past)!.type, shapes.get(p.past)!.lead, shapes.get(p.past)!.headDim, slots, session.gpuDevice)]) : []);
  let carried = new Map<string, AnyTensor>(); // 'grow' and 'inplace': the presents fed back as the next pasts
  let encoder: GPUCommandEncoder | undefined;
  const takeEncoder = (): GPUCommandEncoder => (encoder ??= session.gpuDevice!.createCommandEncoder({ label: 'kiln-kv-window' }));
  const aborted = (): never => fail('ABORTED', 'generation was aborted', { tokens: [...tokens], reason: String(signal?.reason) });
  let finishReason: GenerateResult['finishReason'] = 'length';
  if (carries) carrying.add(decoder); // released in the finally below, whatever happens
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      if (signal?.aborted) aborted();
      const first = step === 0 || cache === 'none';
      const newIds = first ? sequence : [sequence[sequence.length - 1]!];
      const start = sequence.length - newIds.length; // absolute position of the first new token
      const feeds: Record<string, AnyTensor> = { input_ids: intTensor(ids.name, newIds, [1, newIds.length]) };
      // 'window': `slots` entries, the last `start` of them real, the new tokens after them.
      // 'inplace': `slots` entries, the first `start` real; the new token is written at `start`.
      const total = first ? sequence.length : cache === 'window' ? slots + newIds.length : slots;
      const real = sequence.length;
      if (mask) feeds[mask.name] = cache === 'inplace' ? ones(mask.name, total, 0, real) : ones(mask.name, total, total - real, total);
      if (positions) feeds[positions.name] = intTensor(positions.name, newIds.map((_, i) => start + i), [1, newIds.length]);
      const inPlace = cache === 'inplace' && !first;
      // A carrying decoder takes the cache once (the prompt's, at the first decode step) and keeps it.
      const kept = inPlace && carries && step > 1;
      if (!kept) for (const p of pairs) feeds[p.past] = first ? emptyPast(p) : carried.get(p.past) ?? windows.get(p.past)!.past;
      if (inPlace) feeds[KV_OFFSET_INPUT] = new Tensor('float32', [start], [1]);
      // Presents are fetched only to be fed back or copied into the cache: not by a carrying decoder, not after the last token.
      const lastToken = first && step + 1 === maxNewTokens; // a decode step keeps its fetches: one plan for every step
      const out = await (inPlace ? decoder! : session).run(feeds, (inPlace && carries) || lastToken ? ['logits'] : fetches);
      const presents = (inPlace && carries) || lastToken ? [] : pairs.map((p) => out[p.present]!);
      // The presents the next step feeds as its pasts; the pasts they replace are done with.
      const carry = presents.length > 0 && (cache === 'grow' || (inPlace && !carries));
      if (carry) {
        for (const t of carried.values()) t.dispose();
        carried = new Map(pairs.map((p, i) => [p.past, presents[i]!]));
      }
      try {
        const logits = out.logits!;
        const row = await lastRow(logits);
        const token = pickToken(row, options, uniform);
        if ((cache === 'window' || (cache === 'inplace' && first)) && step + 1 < maxNewTokens) {
          for (const [i, p] of pairs.entries()) {
            const w = windows.get(p.past)!;
            await (cache === 'inplace' ? w.fill(presents[i]!, sequence.length, takeEncoder, 0) : first ? w.fill(presents[i]!, sequence.length, takeEncoder) : w.shift(presents[i]!, takeEncoder));
          }
          if (encoder) session.gpuDevice!.queue.submit([encoder.finish()]);
          encoder = undefined;
        }
        logits.dispose();
        sequence.push(token);
        tokens.push(token);
        await options.onToken?.(token, tokens.length - 1);
        if (eos.has(token)) {
          finishReason = 'eos';
          break;
        }
      } finally {
        if (!carry) for (const t of presents) t.dispose(); // GPU presents go back to the session's pool
      }
    }
  } finally {
    if (carries) carrying.delete(decoder);
    for (const w of windows.values()) w.release();
    for (const t of carried.values()) t.dispose();
  }
  return { tokens, sequence, finishReason, cache };
}

/** Decoders a generation is carrying its cache in now. */
const carrying = new WeakSet<object>();

/** The last position's logits ([1, S, V] or [1, V]) as numbers. */
async function lastRow(logits: AnyTensor): Promise<ArrayLike<number>> {
  const v = logits.dims[logits.dims.length - 1]!;
  if (logits.dims[0] !== 1 || v === 0) fail('UNSUPPORTED_FEATURE', `generate: logits of dims [${logits.dims.join(', ')}]; generate() handles one sequence (batch 1)`);
  const data = await logits.getData();
  const from = data.length - v;
  if (logits.type === 'float32') return (data as Float32Array).subarray(from);
  if (logits.type === 'float16') return Array.from((data as Uint16Array).subarray(from), halfToFloat);
  return fail('UNSUPPORTED_FEATURE', `generate: logits are ${logits.type}; generate() reads float32 or float16`);
}

/** A past's layout: [batch, heads, sequence, head size], or com.microsoft Attention's stacked [2, batch, heads, sequence, head size]; `lead` is what generate() feeds before the sequence axis (batch 1). */
function pastShape(m: InputMetadata): { lead: readonly number[]; headDim: number; type: 'float32' | 'float16' } {
  const stacked = m.shape.length === 5;
  const [heads, , headDim] = m.shape.slice(stacked ? 2 : 1);
  if ((m.shape.length !== 4 && !(stacked && m.shape[0] === 2)) || typeof heads !== 'number' || typeof headDim !== 'number' || heads < 1 || headDim < 1) {
    fail('UNSUPPORTED_FEATURE', `generate: past input '${m.name}' has shape [${m.shape.join(', ')}]; generate() needs [batch, heads, sequence, head size] or the stacked [2, batch, heads, sequence, head size] with heads and head size fixed in the model`);
  }
  if (m.type !== 'float32' && m.type !== 'float16') fail('UNSUPPORTED_FEATURE', `generate: past input '${m.name}' is ${m.type}; generate() handles float32 or float16 caches`);
  return { lead: stacked ? [2, 1, heads] : [1, heads], headDim, type: m.type };
}
