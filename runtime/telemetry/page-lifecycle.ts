// Pages are closed, hidden and frozen without warning (mobile tabs above all): telemetry is flushed
// when the page becomes hidden and on pagehide, the last moments a page reliably gets. Batches
// that cannot be sent then stay in the durable queue for the next session.
type Flusher = () => void;

const flushers = new Set<Flusher>();
let listening = false;

function flushAll(): void {
  for (const f of flushers) {
    try {
      f();
    } catch {
      // one session's failure must not stop the others from flushing
    }
  }
}

/** Registers `flush` to run when this page hides or unloads; returns the unregister function. No-op outside pages. */
export function onPageHidden(flush: Flusher): () => void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc) return () => undefined;
  if (!listening) {
    listening = true;
    doc.addEventListener('visibilitychange', () => {
      if (doc.visibilityState === 'hidden') flushAll();
    });
    globalThis.addEventListener('pagehide', flushAll);
  }
  flushers.add(flush);
  return () => flushers.delete(flush);
}
