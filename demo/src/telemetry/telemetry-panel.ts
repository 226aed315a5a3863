// The live telemetry card: latency percentiles per model and one gauge per drift feature, read from
// each session's `session.telemetry.snapshot()` (docs/telemetry.md) once a second.
import type { FeatureDrift, SessionTelemetry, TelemetrySnapshot } from '../../../runtime/telemetry/telemetry-api.ts';
import type { InferenceSession } from '../../../runtime/worker/browser-entry.ts';

/** Thresholds the gauges draw (the runtime's defaults, docs/telemetry.md). */
const JS_LIMIT = 0.1;
const PSI_LIMIT = 0.2;

/** The session's telemetry when it measures (created with the `telemetry` option). */
export function telemetryOf(session: InferenceSession): SessionTelemetry | undefined {
  return session.telemetry.enabled ? session.telemetry : undefined;
}

interface Tracked {
  readonly label: string;
  readonly session: InferenceSession;
}

export class TelemetryPanel {
  private readonly tracked = new Map<string, Tracked>();
  private timer = 0;

  constructor(
    private readonly els: { latency: HTMLElement; gauges: HTMLElement; driftNote: HTMLElement; delivery: HTMLElement },
    private readonly exporting: boolean,
  ) {}

  /** Shows `session` under `slot` (replacing the previous session of that slot, e.g. int8 -> int4). */
  track(slot: string, label: string, session: InferenceSession): void {
    this.tracked.set(slot, { label, session });
    if (this.timer === 0) this.timer = window.setInterval(() => void this.refresh(), 1000);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const snaps: { slot: string; label: string; snap: TelemetrySnapshot }[] = [];
    for (const [slot, t] of this.tracked) {
      const tel = telemetryOf(t.session);
      const snap = await tel?.snapshot().catch(() => undefined);
      if (snap) snaps.push({ slot, label: t.label, snap });
    }
    this.renderLatency(snaps);
    this.renderDrift(snaps);
    this.renderDelivery(snaps.map((s) => s.snap));
  }

  private renderLatency(snaps: readonly { label: string; snap: TelemetrySnapshot }[]): void {
    const ms = (v: number | undefined): string => (v === undefined ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`);
    const rows = snaps.map(({ label, snap }) => {
      const total = snap.latency.total;
      const tr = document.createElement('tr');
      for (const text of [label, String(snap.runs), ms(total?.p50), ms(total?.p90), ms(total?.p99)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      tr.innerHTML = '<td colspan="5" class="empty">Run a model to see its latency.</td>';
      rows.push(tr);
    }
    this.els.latency.replaceChildren(...rows);
  }

  private renderDrift(snaps: readonly { slot: string; label: string; snap: TelemetrySnapshot }[]): void {
    const withDrift = snaps.filter((s) => s.snap.drift);
    const gauges: HTMLElement[] = [];
    const notes: string[] = [];
    for (const { label, snap } of withDrift) {
      const d = snap.drift!;
      notes.push(`${label}: window ${d.windows + 1} at ${d.samplesInWindow}/${d.windowSize}, ${d.alerts} alert${d.alerts === 1 ? '' : 's'}`);
      for (const f of d.last?.features ?? []) gauges.push(gauge(label, f));
    }
    this.els.driftNote.textContent = notes.join(' · ');
    if (gauges.length === 0) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = withDrift.length === 0 ? 'Drift scores appear once a model with a drift reference has run.' : 'Gauges appear when the first window of samples closes. Turn on live traffic to fill it.';
      gauges.push(p);
    }
    this.els.gauges.replaceChildren(...gauges);
  }

  private renderDelivery(snaps: readonly TelemetrySnapshot[]): void {
    if (!this.exporting) {
      this.els.delivery.textContent = 'Measured in this page only (no collector configured).';
      return;
    }
    const sum = (k: 'sentBatches' | 'queuedBatches' | 'droppedBatches'): number => snaps.reduce((a, s) => a + s.export[k], 0);
    const queued = sum('queuedBatches');
    const parts = [`${sum('sentBatches')} batches delivered to the collector`];
    if (queued > 0) parts.push(`${queued} queued until the collector is reachable`);
    if (sum('droppedBatches') > 0) parts.push(`${sum('droppedBatches')} dropped (queue full)`);
    this.els.delivery.textContent = parts.join(' · ');
  }
}

function gauge(model: string, f: FeatureDrift): HTMLElement {
  const el = document.createElement('div');
  el.className = `gauge${f.drifted ? ' alert' : ''}`;
  el.dataset.feature = f.name;
  // The meter shows Jensen-Shannon distance with its alert threshold at the middle.
  const level = Math.min(1, f.js / (2 * JS_LIMIT));
  el.innerHTML = '<span class="name"></span><span class="meter"><span class="level"></span><span class="limit"></span></span><span class="score"><span class="js"></span><span class="psi"></span></span>';
  (el.querySelector('.name') as HTMLElement).textContent = f.name.replace(/_/g, ' ');
  (el.querySelector('.name') as HTMLElement).title = `${model}: ${f.name}${f.drifted ? ' — drifted' : ''}`;
  (el.querySelector('.level') as HTMLElement).style.width = `${(level * 100).toFixed(1)}%`;
  (el.querySelector('.limit') as HTMLElement).style.left = '50%';
  (el.querySelector('.js') as HTMLElement).textContent = `JS ${f.js.toFixed(3)}`;
  const psi = el.querySelector('.psi') as HTMLElement;
  psi.textContent = `PSI ${f.psi.toFixed(2)}`;
  if (f.psi >= PSI_LIMIT) psi.style.color = 'var(--bad)';
  return el;
}
