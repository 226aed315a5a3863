// What every `kiln` subcommand provides; the dispatcher (kiln.ts) prints help and maps errors to
// exit codes: 0 ok, 1 a typed failure (KilnError), 2 bad usage (CliUsageError).
export interface Command {
  /** printed for `kiln <name> --help` and after a usage error */
  readonly help: string;
  /** returns the process exit code */
  run(argv: readonly string[]): Promise<number>;
}

/** Bad options or arguments: printed with the command's help, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
