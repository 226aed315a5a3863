#!/usr/bin/env node
// The `kiln` command: one subcommand per file under ./commands (and the collector's own), loaded
// only when asked for, so `kiln inspect` never pays for TF.js and `kiln train` never for SQLite.
import { KilnError } from '../../runtime/core/errors.ts';
import { CliUsageError, type Command } from './command.ts';

const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  train: { summary: 'train a model with quantization-aware training, pruning, distillation', load: async () => (await import('./commands/train.ts')).trainCommand },
  compress: { summary: 'quantize an ONNX model trained elsewhere (int8 / int4) into a .kiln bundle', load: async () => (await import('./commands/compress.ts')).compressCommand },
  inspect: { summary: 'summarize a .kiln bundle or an ONNX model: ops, parameters, quantization, signature', load: async () => (await import('./commands/inspect.ts')).inspectCommand },
  collect: { summary: 'run the telemetry collector (OTLP/HTTP receiver, dashboard, Prometheus endpoint)', load: async () => (await import('./commands/collect.ts')).collectCommand },
};

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
  const command = await entry.load();
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
