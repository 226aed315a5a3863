// Which inputs of a decoder are its past key/values and which outputs the matching presents, in the
// names Optimum and onnxruntime-genai export: past_key_values.N.key -> present.N.key (both tools'
// default), and genai's split form past_key_N / past_value_N -> present_key_N / present_value_N; and
// onnxruntime's GPT-2 exports (com.microsoft Attention): ONE stacked cache per layer, past_N -> present_N,
// [2, batch, heads, sequence, head size] (keys then values). Which form a pair is, the past's shape says.
import { fail } from '../../core/errors.ts';

export interface KvPair {
  readonly past: string;
  readonly present: string;
}

const PATTERNS: readonly { past: RegExp; present: (m: RegExpMatchArray) => string }[] = [
  { past: /^past_key_values\.(\d+)\.(key|value)$/, present: (m) => `present.${m[1]}.${m[2]}` },
  { past: /^past_(key|value)_(\d+)$/, present: (m) => `present_${m[1]}_${m[2]}` },
  { past: /^past_(key|value)_self_(\d+)$/, present: (m) => `present_${m[1]}_self_${m[2]}` },
  { past: /^past_(\d+)$/, present: (m) => `present_${m[1]}` },
];

/** The model's past -> present pairs; a past input without its present output is an error that names both. */
export function findKvPairs(inputNames: readonly string[], outputNames: readonly string[]): KvPair[] {
  const pairs: KvPair[] = [];
  for (const past of inputNames) {
    for (const p of PATTERNS) {
      const m = past.match(p.past);
      if (!m) continue;
      const present = p.present(m);
      if (!outputNames.includes(present)) fail('INVALID_MODEL', `generate: the model takes '${past}' but has no output '${present}' to feed it from; its outputs are ${outputNames.join(', ')}`);
      pairs.push({ past, present });
      break;
    }
  }
  return pairs;
}
