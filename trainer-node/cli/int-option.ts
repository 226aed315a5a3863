// A command-line integer option: undefined when absent, a usage error when not an integer >= min.
import { CliUsageError } from './command.ts';

export function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliUsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}
