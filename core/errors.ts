/**
 * Every failure Kiln reports is a KilnError with a stable code, so callers can branch on
 * `err.code` and the worker boundary can rebuild the same class on the other side.
 */
export type KilnErrorCode =
  | 'INVALID_ARGUMENT' // a caller passed something malformed (tensor data, options)
  | 'INVALID_MODEL' // the model bytes are not a model we can read (truncated, corrupt, wrong magic)
  | 'INTEGRITY' // the model reads but is not what was signed or hashed: a section's SHA-256 or the signature fails, or a required signature is missing
  | 'UNSUPPORTED_OPS' // the model uses ops Kiln does not implement; all are named at once
  | 'UNSUPPORTED_FEATURE' // a readable model uses something Kiln does not do (data-dependent shapes...)
  | 'INVALID_GRAPH' // the graph is inconsistent (shape mismatch inside, dangling names)
  | 'INPUT_MISMATCH' // run() feeds: wrong names, dtypes or shapes
  | 'DEVICE_UNAVAILABLE' // no backend from the requested list could be started
  | 'DEVICE_LIMIT' // a tensor or dispatch is larger than the device allows
  | 'DEVICE_LOST' // the GPU device went away while in use
  | 'RELEASED' // the session was released
  | 'ABORTED' // the caller's AbortSignal stopped the work (generate)
  | 'INTERNAL'; // a bug in Kiln: please report

export class KilnError extends Error {
  override readonly name: string = 'KilnError';
  constructor(
    readonly code: KilnErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(`[${code}] ${message}`);
  }
}

export function fail(code: KilnErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new KilnError(code, message, details);
}

/** Cheap invariant check for conditions that indicate a Kiln bug, not a user error. */
export function assertInternal(condition: unknown, message: string): asserts condition {
  if (!condition) throw new KilnError('INTERNAL', message);
}
