// Storage failures the page must explain to the user instead of failing silently.

/** The browser refused to store a model (quota); `bytesNeeded` is how much more space it would take. */
export class StorageQuotaError extends Error {
  override readonly name = 'StorageQuotaError';
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    readonly model: string,
    readonly bytesNeeded: number,
    readonly bytesAvailable: number | undefined,
  ) {
    super(`Not enough storage to keep ${model} offline: it needs ${formatBytes(bytesNeeded)}${bytesAvailable === undefined ? '' : ` and ${formatBytes(bytesAvailable)} is free`}. Free some space (site data of other sites) and reload.`);
  }
}

export function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
