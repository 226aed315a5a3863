// Most wasm lowerings are one call of one export over the step's addresses: this builds that
// WasmStep, so each lowering says only which export, with which arguments, reading which inputs.
import type { ElementwiseStage, WasmExport, WasmKernels, WasmStep, WasmStepAddresses } from './contract.ts';

export interface SingleExportOptions {
  /** input slots read at run time (WasmStep.reads); [0] when left out */
  readonly reads?: readonly number[];
  /** written once at session start into the step's one persistent region (at.persistent[0]): a descriptor, folded parameters */
  readonly persistent?: Int32Array | Float32Array;
  /** the output has no elements: the export is never called (`args` still is) */
  readonly empty?: boolean;
  /** WasmStep.elementwise, for steps a fused chain may take in */
  readonly elementwise?: ElementwiseStage;
}

/**
 * A step calling export `name` once per run with `args(at, k)`. The export is looked up at session
 * start (prepare), so a stale module fails there rather than at the first run.
 */
export function singleExportStep(name: string, args: (at: WasmStepAddresses, k: WasmKernels) => readonly number[], options: SingleExportOptions = {}): WasmStep {
  const { persistent, empty = false } = options;
  let f: WasmExport | undefined;
  return {
    ...(options.elementwise ? { elementwise: options.elementwise } : {}),
    reads: options.reads ?? [0],
    scratchBytes: 0,
    persistentBytes: persistent ? [persistent.byteLength] : [],
    prepare(k, at) {
      f = k.fn(name);
      if (persistent) new Uint8Array(k.memory.buffer, at.persistent[0]!, persistent.byteLength).set(new Uint8Array(persistent.buffer, persistent.byteOffset, persistent.byteLength));
    },
    run(k, at) {
      f ??= k.fn(name);
      const a = args(at, k); // always: it may check the inputs (Gather's indices) even when nothing is written
      if (!empty) f(...a);
    },
  };
}
