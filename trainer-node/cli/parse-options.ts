// Strict option parsing for the CLI's commands: node:util's parseArgs with no positionals, whose
// errors become usage errors (the command's help and exit code 2) instead of a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from './command.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/** The values of `argv` under `options`; an unknown or malformed option throws CliUsageError, `hint` appended. */
export function parseOptions<O extends Options>(argv: readonly string[], options: O, hint = ''): Values<O> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new CliUsageError(`${(e as Error).message}${hint}`);
  }
}
