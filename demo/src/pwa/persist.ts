// Asks the browser to keep this origin's storage (models, queued telemetry) under storage pressure.
// Browsers may answer false (Chromium grants it to installed or often-visited sites); the page says so.
export async function requestPersistentStorage(): Promise<'persisted' | 'best-effort' | 'unsupported'> {
  if (!navigator.storage?.persist) return 'unsupported';
  try {
    if (await navigator.storage.persisted()) return 'persisted';
    return (await navigator.storage.persist()) ? 'persisted' : 'best-effort';
  } catch {
    return 'best-effort';
  }
}
