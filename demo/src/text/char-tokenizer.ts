// The character tokenizer a `kiln train --arch gpt` bundle records (metadata.tokenizer: kind
// 'characters', vocab = one character per token id). Characters outside the vocabulary are dropped
// from a prompt rather than guessed at; the page says which.
import { fail } from '../../../core/errors.ts';
import type { BundleSpec } from '../../../runtime/format/kiln/bundle-spec.ts';

export interface CharTokenizer {
  readonly vocab: readonly string[];
  /** token ids of the characters of `text` the vocabulary has, and the characters it has not */
  encode(text: string): { ids: number[]; dropped: string[] };
  decode(id: number): string;
}

export function charTokenizerOf(spec: BundleSpec): CharTokenizer {
  const t = spec.metadata?.['tokenizer'];
  const vocab = typeof t === 'object' && t !== null && (t as { kind?: unknown }).kind === 'characters' ? (t as { vocab?: unknown }).vocab : undefined;
  if (!Array.isArray(vocab) || vocab.length === 0 || !vocab.every((c): c is string => typeof c === 'string')) {
    fail('INVALID_MODEL', "the text model's bundle has no metadata.tokenizer { kind: 'characters', vocab: [...] }");
  }
  const index = new Map(vocab.map((c, i) => [c, i]));
  return {
    vocab,
    encode(text) {
      const ids: number[] = [];
      const dropped: string[] = [];
      for (const ch of text) {
        const id = index.get(ch);
        if (id === undefined) dropped.push(ch);
        else ids.push(id);
      }
      return { ids, dropped };
    },
    decode: (id) => vocab[id] ?? '',
  };
}
