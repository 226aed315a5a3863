// Command-line options of `kiln compress`; every mistake is a CliUsageError naming the option.
import { CliUsageError } from '../cli/command.ts';
import type { CalibrationMethod } from './activation-ranges.ts';

export interface ParsedCompressArgs {
  readonly input: string;
  readonly bits: 8 | 4;
  readonly calib?: string;
  readonly method: CalibrationMethod;
  readonly percentile: number;
  readonly block: number;
  readonly keep: readonly string[];
  readonly out: string;
  readonly onnxOut?: string;
  /** calibration samples used at most */
  readonly samples: number;
  /** samples per layer in the sensitivity report (0: no report) */
  readonly sensitivitySamples: number;
  /** synthetic inputs: size of symbolic dims other than the batch */
  readonly freeDim: number;
}

const VALUED = new Set(['--bits', '--calib', '--calib-method', '--percentile', '--block', '--out', '--onnx-out', '--samples', '--sensitivity-samples', '--free-dim']);

function intOption(flag: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < lo || n > hi) throw new CliUsageError(`${flag} must be an integer in ${lo}..${hi}, got '${v}'`);
  return n;
}

export function parseCompressArgs(argv: readonly string[]): ParsedCompressArgs {
  const values = new Map<string, string>();
  const keep: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--keep') {
      // --keep NODE [NODE ...]: names up to the next option
      let any = false;
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
        keep.push(argv[++i]!);
        any = true;
      }
      if (!any) throw new CliUsageError('--keep needs at least one node name');
    } else if (VALUED.has(a)) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new CliUsageError(`${a} needs a value`);
      if (values.has(a)) throw new CliUsageError(`${a} given twice`);
      values.set(a, v);
      i++;
    } else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new CliUsageError(positional.length === 0 ? 'which model? give one model.onnx' : `one model at a time, got ${positional.join(', ')}`);
  const bitsText = values.get('--bits') ?? '8';
  if (bitsText !== '8' && bitsText !== '4') throw new CliUsageError(`--bits must be 8 or 4, got '${bitsText}'`);
  const method = values.get('--calib-method') ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new CliUsageError(`--calib-method must be minmax or percentile, got '${method}'`);
  const blockText = values.get('--block') ?? '32';
  if (!['32', '64', '128'].includes(blockText)) throw new CliUsageError(`--block must be 32, 64 or 128, got '${blockText}'`);
  if (values.has('--block') && bitsText !== '4') throw new CliUsageError('--block applies to --bits 4 only');
  const percentile = Number(values.get('--percentile') ?? '99.99');
  if (!(percentile > 50 && percentile <= 100)) throw new CliUsageError(`--percentile must be in (50, 100], got '${values.get('--percentile')}'`);
  const out = values.get('--out');
  if (!out) throw new CliUsageError('--out model.kiln is required');
  if (!out.endsWith('.kiln')) throw new CliUsageError(`--out must name a .kiln file, got '${out}'`);
  const onnxOut = values.get('--onnx-out');
  if (onnxOut !== undefined && !onnxOut.endsWith('.onnx')) throw new CliUsageError(`--onnx-out must name a .onnx file, got '${onnxOut}'`);
  return {
    input: positional[0]!,
    bits: bitsText === '8' ? 8 : 4,
    calib: values.get('--calib'),
    method,
    percentile,
    block: Number(blockText),
    keep,
    out,
    onnxOut,
    samples: intOption('--samples', values.get('--samples') ?? '64', 1, 100000),
    sensitivitySamples: intOption('--sensitivity-samples', values.get('--sensitivity-samples') ?? '4', 0, 100000),
    freeDim: intOption('--free-dim', values.get('--free-dim') ?? '64', 1, 100000),
  };
}
