// The demo's character tokenizer reads the vocabulary a `kiln train --arch gpt` bundle records;
// characters the model does not know are reported, and a bundle without the vocabulary is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { charTokenizerOf } from '../../demo/src/text/char-tokenizer.ts';

const spec = { metadata: { tokenizer: { kind: 'characters', vocab: ['\n', ' ', 'a', 'e', 'h', 't'] } } };

test('encode maps each known character to its vocabulary index and reports the others; decode inverts it', () => {
  const t = charTokenizerOf(spec);
  assert.deepEqual(t.encode('the tea!'), { ids: [5, 4, 3, 1, 5, 3, 2], dropped: ['!'] });
  assert.equal([5, 4, 3, 0].map((i) => t.decode(i)).join(''), 'the\n');
  assert.equal(t.decode(99), '', 'an id outside the vocabulary decodes to nothing');
});

test('a bundle without a character vocabulary is INVALID_MODEL', () => {
  for (const bad of [{}, { metadata: {} }, { metadata: { tokenizer: { kind: 'bpe', vocab: ['a'] } } }, { metadata: { tokenizer: { kind: 'characters', vocab: [] } } }, { metadata: { tokenizer: { kind: 'characters', vocab: ['a', 1] } } }]) {
    assert.throws(() => charTokenizerOf(bad), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_MODEL', JSON.stringify(bad));
  }
});
