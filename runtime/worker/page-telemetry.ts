// session.telemetry in the page for a session hosted in a worker: calls go to the worker's
// telemetry, its events come back through a comlink callback and are dispatched here, and the page
// asks the worker to flush when it is hidden or unloaded (workers get no such events).
import type { DriftAlert, FlushResult, SessionTelemetry, TelemetrySnapshot } from '../telemetry/telemetry-api.ts';
import { TELEMETRY_EVENTS } from '../telemetry/telemetry-api.ts';
import { EMPTY_SNAPSHOT } from '../telemetry/disabled-telemetry.ts';
import { onPageHidden } from '../telemetry/page-lifecycle.ts';

export interface TelemetryLink {
  snapshot(): Promise<TelemetrySnapshot>;
  flush(keepalive: boolean): Promise<FlushResult>;
}

export class RemoteTelemetry extends EventTarget implements SessionTelemetry {
  private link: TelemetryLink | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    readonly enabled: boolean,
    private readonly onDriftAlert?: (alert: DriftAlert) => void,
  ) {
    super();
  }

  /** Connects to the worker's telemetry once the session exists there. */
  attach(link: TelemetryLink): void {
    this.link = link;
    if (this.enabled) this.unwatch = onPageHidden(() => void link.flush(true).catch(() => undefined));
  }

  /** Called with the events the worker forwards. */
  receive(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
    if (type !== TELEMETRY_EVENTS.driftAlert || !this.onDriftAlert) return;
    try {
      this.onDriftAlert(detail as DriftAlert);
    } catch (e) {
      console.error('kiln: an onDriftAlert listener threw', e);
    }
  }

  async snapshot(): Promise<TelemetrySnapshot> {
    return this.enabled && this.link ? this.link.snapshot() : EMPTY_SNAPSHOT;
  }

  async flush(options: { readonly keepalive?: boolean } = {}): Promise<FlushResult> {
    return this.enabled && this.link ? this.link.flush(options.keepalive ?? false) : { sent: 0, queued: 0, dropped: 0 };
  }

  detach(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }
}
