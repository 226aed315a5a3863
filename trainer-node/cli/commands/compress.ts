// `kiln compress model.onnx --bits 8|4 [--calib DIR] --out model.kiln`: see trainer-node/compress/ and docs/quantization.md.
import { KilnError } from '../../../core/errors.ts';
import { CliUsageError, type Command } from '../command.ts';
import { compressModel } from '../../compress/compress.ts';
import { parseCompressArgs } from '../../compress/options.ts';
import { finalTable, sensitivityReport } from '../../compress/report.ts';

const help = `kiln compress MODEL.onnx --out MODEL.kiln [options]

Post-training quantization of an ONNX model into a .kiln bundle.

  --bits 8|4                 8 (default): int8 per-channel symmetric weights, uint8 asymmetric
                             activations calibrated on --calib; 4: int4 block-wise weights
                             (Conv/MatMul/Gemm), float activations
  --calib DIR                calibration inputs: DIR/<input name>.npy per model input, samples
                             stacked along axis 0 (each is run with batch 1). Without it, synthetic
                             random inputs are used (a warning says so)
  --calib-method minmax|percentile   activation ranges (default minmax)
  --percentile P             percentile for --calib-method percentile (default 99.99)
  --block 32|64|128          int4 block size along the input dimension (default 32)
  --keep NODE [NODE ...]     leave these layers in float (see the sensitivity report)
  --out FILE.kiln            the bundle to write (written to a temp file, then renamed)
  --onnx-out FILE.onnx       also write the QDQ ONNX (runs in onnxruntime)
  --samples N                calibration samples used at most (default 64)
  --sensitivity-samples N    samples per layer for the sensitivity report (default 4, 0 = skip)
  --free-dim N               synthetic inputs: size of symbolic dims other than batch (default 64)`;

export const compressCommand: Command = {
  help,
  async run(argv) {
    const args = parseCompressArgs(argv);
    try {
      const result = await compressModel({
        ...args,
        commandLine: ['kiln', 'compress', ...argv].join(' '),
        progress: process.stderr,
        warn: (m) => console.error(m),
      });
      console.log(sensitivityReport(result));
      console.log('');
      console.log(finalTable(result));
      console.log(`\nwrote ${args.out}${args.onnxOut ? ` and ${args.onnxOut}` : ''}`);
      return 0;
    } catch (e) {
      // option values that turn out wrong (a --keep that names nothing) are usage errors
      if (e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /^--(keep|calib)/.test(e.message.replace(/^\[\w+\] /, ''))) throw new CliUsageError(e.message.replace(/^\[\w+\] /, ''));
      throw e;
    }
  },
};
