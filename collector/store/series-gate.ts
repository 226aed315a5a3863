// Caps on what clients can make the collector remember: distinct series in all, per model, and
// distinct values of each label (model names separately, tighter). Without them one request with
// 10 000 invented model names grew /metrics by a megabyte, every time. A point of a series already
// known always passes; a new series over a cap is refused (counted, reported as OTLP partial
// success). Known series live in the `series` table; retention forgets those with no data left.
import type { Db } from './database.ts';
import { LABEL_COLUMNS, type LabelColumn } from './series.ts';

export interface SeriesLimits {
  /** distinct series in all (default 100 000) */
  readonly seriesTotal: number;
  /** distinct series per model name (default 20 000) */
  readonly seriesPerModel: number;
  /** distinct model names (default 1 000) */
  readonly modelNames: number;
  /** distinct values of any other label: version, backend, feature... (default 10 000) */
  readonly labelValues: number;
}

export const DEFAULT_SERIES_LIMITS: SeriesLimits = { seriesTotal: 100_000, seriesPerModel: 20_000, modelNames: 1_000, labelValues: 10_000 };

type Labels = Readonly<Record<LabelColumn, string | null>>;

export class SeriesGate {
  private known = new Set<string>();
  private perModel = new Map<string, number>();
  private values = new Map<LabelColumn, Set<string>>();
  private readonly all;

  constructor(
    db: Db,
    private readonly limits: SeriesLimits,
  ) {
    this.all = db.prepare(`SELECT series, ${LABEL_COLUMNS.map(([c]) => c).join(', ')} FROM series LIMIT ?`);
    this.reload();
  }

  /** Rebuilds the sets from the table (at start and after retention deleted series). */
  reload(): void {
    this.known = new Set();
    this.perModel = new Map();
    this.values = new Map(LABEL_COLUMNS.map(([c]) => [c, new Set<string>()]));
    for (const r of this.all.iterate(this.limits.seriesTotal) as IterableIterator<Labels & { series: string }>) this.remember(r.series, r);
  }

  get size(): number {
    return this.known.size;
  }

  /** Whether a point of series `key` may be stored; a new series that fits is remembered at once. */
  admit(key: string, labels: Labels): boolean {
    if (this.known.has(key)) return true;
    if (this.known.size >= this.limits.seriesTotal) return false;
    if ((this.perModel.get(labels.model ?? '') ?? 0) >= this.limits.seriesPerModel) return false;
    for (const [col] of LABEL_COLUMNS) {
      const v = labels[col];
      const seen = this.values.get(col)!;
      if (v !== null && !seen.has(v) && seen.size >= (col === 'model' ? this.limits.modelNames : this.limits.labelValues)) return false;
    }
    this.remember(key, labels);
    return true;
  }

  private remember(key: string, labels: Labels): void {
    this.known.add(key);
    const model = labels.model ?? '';
    this.perModel.set(model, (this.perModel.get(model) ?? 0) + 1);
    for (const [col] of LABEL_COLUMNS) {
      const v = labels[col];
      if (v !== null) this.values.get(col)!.add(v);
    }
  }
}
