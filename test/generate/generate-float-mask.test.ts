// generate() on decoder exports whose attention_mask is float32 (1.0 attend, 0.0 not), as some GPT-2
// exports take it: fed as float32, with the same cache path and the same greedy tokens as the same
// model with an int64 mask (same weights; the mask only reaches the graph through Cast, so the
// arithmetic is the same to the bit). Before, generate() refused such models.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { tinyGpt, type TinyGptConfig } from '../helpers/tiny-gpt.ts';

const base: TinyGptConfig = { vocab: 40, embed: 32, heads: 4, layers: 2, maxPositions: 48 };
/** The same weights for both mask types: each model draws from a fresh stream of the same name. */
const model = (cfg: TinyGptConfig, draw: number): Uint8Array => encodeOnnxModel(tinyGpt(cfg, testRng(import.meta.url, `weights ${cfg.attention ?? 'ops'}${draw > 0 ? ` ${draw}` : ''}`)));
const prompt = Array.from({ length: 6 }, (_, i) => (i * 7 + 3) % base.vocab);

/**
 * The test sees a misread mask only through tokens that vary, and a random tiny GPT sometimes
 * repeats one token (seed 3792713952: "18" 16 times). So the weights are drawn again, from streams
 * of the seed, until the int64 model's greedy tokens vary (js); a draw repeats with p ~ 0.1, so 8
 * draws all repeating (the test then fails) has p ~ 1e-8 per run.
 */
const WEIGHT_DRAWS = 8;
const varyingDraws = new Map<string, Promise<number>>();
function varyingDraw(attention: TinyGptConfig['attention']): Promise<number> {
  const key = attention ?? 'ops';
  let found = varyingDraws.get(key);
  if (!found) {
    found = (async () => {
      for (let draw = 0; draw < WEIGHT_DRAWS; draw++) {
        const s = await InferenceSession.create(model({ ...base, attention, maskType: 'int64' }, draw), { executionProviders: ['js'] });
        const { tokens } = await generate(s, { inputIds: prompt, maxNewTokens: 16 }).finally(() => s.release());
        if (new Set(tokens).size > 1) return draw;
      }
      return assert.fail(`${WEIGHT_DRAWS} weight draws all gave one repeated token (p ~ 1e-8): KILN_TEST_SEED replays it`);
    })();
    varyingDraws.set(key, found);
  }
  return found;
}

for (const attention of ['ops', 'mha', 'stacked'] as const) {
  for (const backend of ['js', 'wasm', 'webgpu'] as const) {
    test(`${backend}, ${attention} attention: a float32 attention_mask decodes as the int64 one does`, async () => {
      const draw = await varyingDraw(attention);
      const sessions = await Promise.all((['int64', 'float32'] as const).map((maskType) => InferenceSession.create(model({ ...base, attention, maskType }, draw), { executionProviders: [backend] })));
      try {
        assert.equal(sessions[1]!.inputMetadata.find((m) => m.name === 'attention_mask')?.type, 'float32');
        const [int, float] = await Promise.all(sessions.map((s) => generate(s, { inputIds: prompt, maxNewTokens: 16 })));
        assert.equal(float!.cache, int!.cache, 'the same cache path');
        assert.deepEqual(float!.tokens, int!.tokens);
        assert.equal(new Set(int!.tokens).size > 1, true, `the tokens vary (a mask of zeros would not be seen otherwise): ${int!.tokens.join(' ')}`);
      } finally {
        await Promise.all(sessions.map((s) => s.release()));
      }
    });
  }
}
