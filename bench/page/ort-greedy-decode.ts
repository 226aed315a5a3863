// onnxruntime-web's side of the GPT decode benches (bench/page/gpt-decode.ts in Chromium,
// bench/node/gpt-decode-bench.ts and wasm-kv-bench.ts in Node): greedy decoding with its presents
// fed back as the next pasts, the loop a transformers.js-style caller writes. No imports: the page
// loads ort's module at run time, Node imports the package; both pass what they have.

/** What the loop needs of an onnxruntime-web session (the page's is typed by its own minimal interface). */
export interface OrtRunner {
  run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface OrtDecodeFeeds {
  /** an int64 [1, n] tensor of ort's */
  readonly i64: (v: readonly number[]) => unknown;
  /** every past input, empty ([1, heads, 0, head size]) */
  readonly emptyPasts: () => Record<string, unknown>;
  /** the present output that becomes `past` in the next step */
  readonly presentOf: (past: string) => string;
}

/**
 * Greedy decode from `prompt` until the sequence is `upTo` tokens long: the first step runs the
 * prompt, each later one the last token. Returns the ms between consecutive tokens (the first
 * token's wait, the prefill, left out).
 */
export async function ortGreedyDecode(s: OrtRunner, prompt: readonly number[], upTo: number, vocab: number, f: OrtDecodeFeeds): Promise<number[]> {
  const sequence = [...prompt];
  let past = f.emptyPasts();
  const at: number[] = [];
  while (sequence.length < upTo) {
    const fed = at.length === 0 ? sequence : [sequence[sequence.length - 1]!];
    const start = sequence.length - fed.length;
    const out = await s.run({ input_ids: f.i64(fed), attention_mask: f.i64(sequence.map(() => 1)), position_ids: f.i64(fed.map((_, i) => start + i)), ...past });
    const logits = (out['logits'] as { data: Float32Array }).data;
    let best = 0;
    for (let i = 1; i < vocab; i++) if (logits[logits.length - vocab + i]! > logits[logits.length - vocab + best]!) best = i;
    sequence.push(best);
    past = Object.fromEntries(Object.keys(past).map((n) => [n, out[f.presentOf(n)]]));
    at.push(performance.now());
  }
  return at.slice(1).map((t, i) => t - at[i]!);
}
