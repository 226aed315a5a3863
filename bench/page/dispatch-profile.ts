// Where a WebGPU runtime's time goes, measured from outside any runtime: the page records every
// compute dispatch of one warm run (pipeline, bind groups, workgroup counts) by wrapping the
// WebGPU encoder methods, then replays each dispatch alone (submit + onSubmittedWorkDone, median of
// a few) with the cost of an empty submit subtracted. Summed per pipeline label (Kiln labels
// pipelines "<op>:<node>"), this splits a run into kernels and what is left: per-dispatch, upload,
// readback and scheduling overhead. Works the same on Kiln, onnxruntime-web and TF.js.

interface Recorded {
  readonly device: GPUDevice;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroups: readonly (GPUBindGroup | null)[];
  readonly size: readonly [number, number, number];
}

export interface KernelTime {
  readonly label: string;
  readonly dispatches: number;
  readonly ms: number;
}

export interface DispatchProfile {
  readonly dispatches: number;
  /** sum of the replayed dispatches (each alone, empty-submit cost subtracted) */
  readonly kernelMs: number;
  readonly emptySubmitMs: number;
  /** by pipeline label, slowest first */
  readonly byLabel: KernelTime[];
  /** by op (label up to the first ':'), slowest first */
  readonly byOp: KernelTime[];
}

let recording: Recorded[] | undefined;
const deviceOf = new WeakMap<object, GPUDevice>();
const passState = new WeakMap<GPUComputePassEncoder, { pipeline?: GPUComputePipeline; groups: (GPUBindGroup | null)[] }>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const dev = GPUDevice.prototype;
  const createEncoder = dev.createCommandEncoder;
  dev.createCommandEncoder = function (this: GPUDevice, d?: GPUCommandEncoderDescriptor): GPUCommandEncoder {
    const e = createEncoder.call(this, d);
    deviceOf.set(e, this);
    return e;
  };
  const enc = GPUCommandEncoder.prototype;
  const begin = enc.beginComputePass;
  enc.beginComputePass = function (this: GPUCommandEncoder, d?: GPUComputePassDescriptor): GPUComputePassEncoder {
    const p = begin.call(this, d);
    const device = deviceOf.get(this);
    if (device) deviceOf.set(p, device);
    passState.set(p, { groups: [] });
    return p;
  };
  const pass = GPUComputePassEncoder.prototype;
  const setPipeline = pass.setPipeline;
  pass.setPipeline = function (this: GPUComputePassEncoder, p: GPUComputePipeline): undefined {
    const s = passState.get(this);
    if (s) s.pipeline = p;
    return setPipeline.call(this, p);
  };
  const setBindGroup = pass.setBindGroup as (this: GPUComputePassEncoder, i: number, g: GPUBindGroup | null, ...rest: unknown[]) => undefined;
  pass.setBindGroup = function (this: GPUComputePassEncoder, i: number, g: GPUBindGroup | null, ...rest: unknown[]): undefined {
    const s = passState.get(this);
    // Dynamic offsets would have to be replayed too; no runtime here uses them for compute.
    if (s) s.groups[i] = rest.length > 0 && (rest[0] as ArrayLike<number>).length > 0 ? null : g;
    return setBindGroup.call(this, i, g, ...rest);
  } as typeof pass.setBindGroup;
  const dispatch = pass.dispatchWorkgroups;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number): undefined {
    const s = passState.get(this);
    const device = deviceOf.get(this);
    if (recording && s?.pipeline && device) recording.push({ device, pipeline: s.pipeline, bindGroups: [...s.groups], size: [x, y ?? 1, z ?? 1] });
    return dispatch.call(this, x, y, z);
  };
}

/** Runs fn with every compute dispatch recorded. */
export async function recordDispatches(fn: () => Promise<unknown>): Promise<Recorded[]> {
  install();
  recording = [];
  try {
    await fn();
    return recording;
  } finally {
    recording = undefined;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function submitAndWait(device: GPUDevice, d: Recorded | undefined): Promise<number> {
  const t0 = performance.now();
  const e = device.createCommandEncoder();
  if (d) {
    const p = e.beginComputePass();
    p.setPipeline(d.pipeline);
    d.bindGroups.forEach((g, i) => g && p.setBindGroup(i, g));
    p.dispatchWorkgroups(...d.size);
    p.end();
  }
  device.queue.submit([e.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

function summarize(entries: [string, number][]): KernelTime[] {
  const m = new Map<string, { dispatches: number; ms: number }>();
  for (const [label, ms] of entries) {
    const k = m.get(label) ?? { dispatches: 0, ms: 0 };
    k.dispatches++;
    k.ms += ms;
    m.set(label, k);
  }
  return [...m].map(([label, v]) => ({ label, ...v })).sort((a, b) => b.ms - a.ms);
}

/** Replays each recorded dispatch alone, `repeats` times, and sums the medians per label. */
export async function replayDispatches(recorded: readonly Recorded[], repeats = 3): Promise<DispatchProfile> {
  if (recorded.length === 0) return { dispatches: 0, kernelMs: 0, emptySubmitMs: 0, byLabel: [], byOp: [] };
  const device = recorded[0]!.device;
  const empty: number[] = [];
  for (let i = 0; i < 10; i++) empty.push(await submitAndWait(device, undefined));
  const emptySubmitMs = median(empty);
  const entries: [string, number][] = [];
  for (const d of recorded) {
    const t: number[] = [];
    for (let i = 0; i < repeats; i++) t.push(await submitAndWait(d.device, d));
    entries.push([d.pipeline.label || '(unlabelled)', Math.max(0, median(t) - emptySubmitMs)]);
  }
  const byLabel = summarize(entries);
  const byOp = summarize(entries.map(([l, ms]) => [l.split(':')[0]!.trim() || l, ms]));
  return { dispatches: recorded.length, kernelMs: entries.reduce((a, [, ms]) => a + ms, 0), emptySubmitMs, byLabel, byOp };
}
