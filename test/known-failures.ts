/**
 * The one list of skipped tests, each with its reason. A test may be listed only for a documented
 * limitation (e.g. a dtype a backend does not support); docs/ops.md repeats this list. No test
 * skips any other way: a test that cannot run here calls t.skip(listedSkip(...)) with a key below.
 */
const KNOWN: Record<string, string> = {};

/**
 * Skips that depend on what this machine offers (checked at run time), each with its reason.
 * They show in the run's "N skipped" count, never as a silent pass.
 */
const CAPABILITY: Record<string, string> = {
  'webgpu:subgroups': 'the adapter lacks the optional WebGPU feature "subgroups": the subgroup (quad) matmul tiles cannot be compiled here',
};

/** The reason for a listed capability skip; an unlisted key is a mistake in the test, not a skip. */
export function listedSkip(key: string): string {
  const reason = CAPABILITY[key];
  if (reason === undefined) throw new Error(`'${key}' is not listed in test/known-failures.ts: every skip is listed there with its reason`);
  return reason;
}

export const capabilitySkips: Readonly<Record<string, string>> = CAPABILITY;

export function knownFailure(backend: string, id: string): string | undefined {
  return KNOWN[`${backend}:${id}`] ?? KNOWN[`*:${id}`];
}

export const knownFailures: Readonly<Record<string, string>> = KNOWN;
