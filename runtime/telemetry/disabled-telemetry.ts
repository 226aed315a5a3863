// `session.telemetry` for sessions created without `options.telemetry`: the same shape, nothing
// measured, nothing sent. Kept apart from session-telemetry.ts so it costs the bundle nothing.
import type { FlushResult, SessionTelemetry, TelemetrySnapshot } from './telemetry-api.ts';

export const EMPTY_SNAPSHOT: TelemetrySnapshot = Object.freeze({
  enabled: false,
  runs: 0,
  errors: 0,
  latency: {},
  coldStart: {},
  export: { active: false, sentBatches: 0, queuedBatches: 0, droppedBatches: 0, rejectedBatches: 0 },
});

export class DisabledTelemetry extends EventTarget implements SessionTelemetry {
  readonly enabled = false;

  async snapshot(): Promise<TelemetrySnapshot> {
    return EMPTY_SNAPSHOT;
  }

  async flush(): Promise<FlushResult> {
    return { sent: 0, queued: 0, dropped: 0 };
  }
}
