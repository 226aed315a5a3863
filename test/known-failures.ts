/**
 * The one list of skipped tests, each with its reason. A test may be listed only for a documented
 * limitation (e.g. a dtype a backend does not support); docs/ops.md repeats this list.
 */
const KNOWN: Record<string, string> = {};

export function knownFailure(backend: string, id: string): string | undefined {
  return KNOWN[`${backend}:${id}`] ?? KNOWN[`*:${id}`];
}

export const knownFailures: Readonly<Record<string, string>> = KNOWN;
