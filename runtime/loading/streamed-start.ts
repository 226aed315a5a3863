// What a session does while a .kiln bundle streams in: once the header has arrived and checked out,
// it names unsupported ops (before any weight is downloaded) and starts the backend (device and
// adapter setup overlap the download); as each section is verified its weights go to the device.
// The graph passes, planning and pipeline compilation still wait for the last section: they need
// weight values (BatchNorm folding, constant folding).
import type { Backend } from '../backends/backend.ts';
import type { KilnStreamEvents } from '../format/kiln/kiln-reader.ts';
import { checkOpsSupported } from '../plan/resolved-graph.ts';
import { loadOpFamiliesFor } from '../../kernels/lazy-families.ts';

export class StreamedStart {
  private backend: Promise<Backend> | undefined;

  /** `start` is called at most once here; undefined: only check ops early (e.g. 'auto' measures later) */
  constructor(private readonly start?: () => Promise<Backend>) {}

  readonly events: KilnStreamEvents = {
    onHeader: (header) => {
      // Names are defaulted as the reader does; malformed nodes are reported by the reader itself.
      const nodes = header.graph.nodes
        .map((n, i) => ({ name: typeof n.name === 'string' && n.name ? n.name : `${n.opType}_${i}`, opType: n.opType, domain: n.domain ?? '' }))
        .filter((n) => typeof n.opType === 'string' && typeof n.domain === 'string');
      checkOpsSupported(nodes, true);
      loadOpFamiliesFor(nodes).catch(() => undefined); // fetched while the weights stream; awaited (and errors reported) by the session
      if (this.start) {
        this.backend = this.start();
        this.backend.catch(() => undefined); // reported when the session asks for it
      }
    },
    onSection: (_index, tensors) => {
      void this.backend?.then((b) => {
        for (const [name, t] of tensors) b.preload?.(t, name);
      }, () => undefined);
    },
  };

  /** The backend started during the download, if one was. */
  get started(): Promise<Backend> | undefined {
    return this.backend;
  }

  /** Loading failed after the backend started: give the device back. */
  async abandon(): Promise<void> {
    (await this.backend?.catch(() => undefined))?.release();
  }
}
