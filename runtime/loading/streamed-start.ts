// What a session does while a .kiln bundle streams in: once the header has arrived and checked out,
// it names unsupported ops (before any weight is downloaded) and starts the backend (device and
// adapter setup overlap the download); as each section is verified its weights go to the device.
// Pipelines are compiled from a plan of the graph's shapes (shape-plan.ts) as soon as the values
// that decide shapes are in: at the header when the bundle has no int32/int64 tensors, else once
// the last section holding one is verified (shape, axes and index tensors: zeros in their place
// would plan other shapes). Float and quantized weights never wait: placeholders stand in.
// An ONNX download starts the backend at its first weight (after the nodes) and uploads each weight when
// its bytes are complete; its inputs' shapes come after every weight, unless Range requests read them
// ahead (format/onnx/onnx-early.ts): then pipelines are compiled from that structure as for .kiln.
// Unsupported ops are named by the reader at the end.
import type { Backend } from '../backends/backend.ts';
import type { KilnHeaderInfo, KilnStreamEvents } from '../format/kiln/kiln-reader.ts';
import type { OnnxStreamEvents } from '../format/onnx/onnx-stream.ts';
import type { Model } from '../graph/ir.ts';
import { fixFreeDimensions, type FreeDimensionOverrides } from '../graph/free-dimensions.ts';
import { checkOpsSupported } from '../plan/resolved-graph.ts';
import { loadOpFamiliesFor } from '../../kernels/lazy-families.ts';
import { planFromShapes } from './shape-plan.ts';

/** dtypes whose values decide shapes (Reshape's shape, Slice's starts, Gather's indices...) */
const SHAPE_DTYPES = new Set(['int32', 'int64']);

export class StreamedStart {
  private backend: Promise<Backend> | undefined;
  private speculation: Promise<void> | undefined;
  /** the section after which the shapes are known (-1: at the header) */
  private shapesKnownAfter = -1;
  private modelSoFar: KilnHeaderInfo['modelSoFar'] | undefined;

  /**
   * `start` is called at most once here; undefined: only check ops early (e.g. 'auto' measures later).
   * `graphPasses` false: the session runs the graph as loaded (graphOptimizationLevel 'disabled').
   * `overrides`: freeDimensionOverrides, applied to the model so far as loadModel applies them to the whole.
   */
  constructor(private readonly start?: () => Promise<Backend>, private readonly graphPasses = true, private readonly overrides?: FreeDimensionOverrides) {}

  readonly events: KilnStreamEvents = {
    onHeader: (header, info) => {
      // Names are defaulted as the reader does; malformed nodes are reported by the reader itself.
      const nodes = header.graph.nodes
        .map((n, i) => ({ name: typeof n.name === 'string' && n.name ? n.name : `${n.opType}_${i}`, opType: n.opType, domain: n.domain ?? '' }))
        .filter((n) => typeof n.opType === 'string' && typeof n.domain === 'string');
      checkOpsSupported(nodes, true);
      loadOpFamiliesFor(nodes).catch(() => undefined); // fetched while the weights stream; awaited (and errors reported) by the session
      if (this.start) {
        this.backend = this.start();
        this.backend.catch(() => undefined); // reported when the session asks for it
        this.modelSoFar = info.modelSoFar;
        this.shapesKnownAfter = Math.max(-1, ...header.tensors.filter((t) => SHAPE_DTYPES.has(t.dtype)).map((t) => t.section));
        if (this.shapesKnownAfter < 0) this.speculate();
      }
    },
    onSection: (index, tensors) => {
      void this.backend?.then((b) => {
        for (const [name, t] of tensors) b.preload?.(t, name);
      }, () => undefined);
      if (index === this.shapesKnownAfter) this.speculate();
    },
  };

  readonly onnxEvents: OnnxStreamEvents = {
    // The backend starts at the first weight (the nodes came before it) and takes each as it completes.
    // Op families load after the last byte, with the passes (a per-node prefetch did not fit the bundle budget).
    // A start that fails is reported when the session asks for the backend.
    onInitializer: (name, tensor) => void this.startBackend()?.then((b) => b.preload?.(tensor, name), () => undefined),
    onShapes: (modelSoFar) => {
      this.startBackend();
      this.modelSoFar = modelSoFar;
      this.speculate();
    },
  };

  private startBackend(): Promise<Backend> | undefined {
    if (!this.backend && this.start) {
      this.backend = this.start();
      this.backend.catch(() => undefined); // reported when the session asks for it
    }
    return this.backend;
  }

  /** Compiles (on the started backend) the pipelines a plan of the model so far needs; never fails the load. */
  private speculate(): void {
    const backend = this.backend;
    const modelSoFar = this.modelSoFar;
    if (!backend || !modelSoFar) return;
    let model: Model;
    try {
      model = fixFreeDimensions(modelSoFar(), this.overrides); // now, with the tensors verified so far; the reader reports a malformed graph at end()
    } catch {
      return;
    }
    this.speculation = (async () => {
      const b = await backend;
      if (!b.prewarm) return; // a CPU backend compiles nothing
      const plan = await planFromShapes(model, b.name, this.graphPasses);
      if (plan) b.prewarm(plan); // undefined: an input dim past the batch is symbolic, the session plans at the first run
    })().catch(() => undefined); // a guess that cannot be planned costs only the head start; the real load reports real errors
  }

  /** The backend started during the download, if one was, once its pipelines compiled ahead have been asked for. */
  get started(): Promise<Backend> | undefined {
    const backend = this.backend;
    const speculation = this.speculation;
    return backend && (speculation ? speculation.then(() => backend) : backend);
  }

  /** Loading failed after the backend started: give the device back once no compile is in flight. */
  async abandon(): Promise<void> {
    await this.speculation;
    const backend = await this.backend?.catch(() => undefined);
    await backend?.settled?.().catch(() => undefined);
    backend?.release();
  }
}
