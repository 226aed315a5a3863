import { Tensor, gpuBufferTensor, type AnyTensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import { packedPerWord, BYTES_PER_GPU_ELEMENT } from '../../../kernels/webgpu/storage.ts';
import type { TensorMeta } from '../../../kernels/contract.ts';
import type { GpuProgram } from '../../../kernels/webgpu/contract.ts';
import type { ExecutionPlan, PlannedStep } from '../../plan/execution-plan.ts';
import type { Backend, Placement, PreparedPlan, RunIo, StepPlacement } from '../backend.ts';
import { GpuBufferPool, bufferDevices, createCountedBuffer } from './gpu-buffer-pool.ts';
import { runStepOnCpu } from '../js/run-step.ts';
import { BufferAssigner } from './buffer-assignment.ts';
import { acquireGpuDevice, checkNotLost, type GpuDeviceContext } from './gpu-device.ts';
import type { KernelTuning } from './kernel-tuning.ts';
import { PipelineCache, readOnlyBindings, type PipelineCounts } from './pipeline-cache.ts';
import { lowerPlan } from './plan-lowering.ts';
import { prewarmPipelines } from './pipeline-prewarm.ts';
import { fromGpuWords, toGpuWords, toPackedWords, type GpuUpload } from './transfer.ts';
import type { RunTiming } from '../../telemetry/latency/run-timing.ts';
import { PassTimestamps } from './pass-timestamps.ts';
import { devKnobFromEnv } from '../../../core/dev-knobs.ts';

function poisonRequested(): boolean {
  const v = devKnobFromEnv('KILN_POISON_BUFFERS');
  return v === true || v === '1';
}

const sizeOfMeta = (m: TensorMeta): number => m.dims.reduce((a, b) => a * b, 1);
const UNIFORM_ALIGN = 256;

interface EncodedProgram {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly dispatch: readonly [number, number, number];
  /** to bind a caller's GPU buffers in place of the plan's: the layout, entries and the value (root id) each binds */
  readonly layout: GPUBindGroupLayout;
  readonly entries: readonly GPUBindGroupEntry[];
  readonly roots: readonly (number | undefined)[];
  /** bind groups made for callers' buffers, by their identities */
  readonly rebound: Map<string, GPUBindGroup>;
}

/** Most bind groups kept per program for callers' buffers (a decode loop alternates a few). */
const MAX_REBOUND = 16;
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
const bufferId = (b: GPUBuffer): number => {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
};

/** What a prepared plan's runs need. */
interface PlanLayout {
  readonly plan: ExecutionPlan;
  readonly execs: readonly StepExec[];
  readonly buffers: ReadonlyMap<number, GPUBuffer>;
  readonly staging: ReadonlyMap<number, GPUBuffer>;
  readonly readOnHost: ReadonlySet<number>;
  readonly rootOf: (id: number) => number;
}

type StepExec = { readonly kind: 'gpu'; readonly programs: EncodedProgram[] } | { readonly kind: 'cpu'; readonly step: PlannedStep };

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  private readonly pipelines: PipelineCache;
  /** constants stay resident for the session, shared by every plan */
  private readonly constants = new Map<AnyTensor, GPUBuffer>();
  /** constants uploaded by preload() that no prepared plan has claimed yet */
  private readonly preloaded = new Set<AnyTensor>();

  /** buffers of gpu-buffer outputs, back here when their tensors are disposed */
  private readonly outputPool: GpuBufferPool;
  /** staging for getData() of gpu-buffer outputs */
  private readonly stagingPool: GpuBufferPool;

  private constructor(readonly gpu: GpuDeviceContext) {
    this.pipelines = new PipelineCache(gpu.device);
    this.outputPool = new GpuBufferPool(gpu.device, gpu.allocations, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'kiln-output');
    this.stagingPool = new GpuBufferPool(gpu.device, gpu.allocations, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'kiln-download');
  }

  static async create(tuning: KernelTuning = 'auto'): Promise<WebGpuBackend> {
    const backend = new WebGpuBackend(await acquireGpuDevice(tuning));
    backend.tuning = tuning;
    return backend;
  }

  /** what create() was asked for; a replacement device after a loss is created the same way */
  tuning: KernelTuning = 'auto';

  get adapterInfo(): string {
    return this.gpu.info;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** pipelines compiled ahead (prewarm) and on demand (prepare), for the cold-start tests and bench */
  get pipelineCounts(): PipelineCounts {
    return this.pipelines.counts;
  }

  /** Streaming loads: starts compiling the pipelines `plan` (built from shapes, weights not yet here) needs. */
  prewarm(plan: ExecutionPlan): number {
    checkNotLost(this.gpu);
    return prewarmPipelines(plan, this.gpu.caps, this.pipelines);
  }

  /** Resolves once no pipeline compile is in flight. */
  settled(): Promise<void> {
    return this.pipelines.settled();
  }

  async prepare(plan: ExecutionPlan): Promise<PreparedPlan> {
    checkNotLost(this.gpu);
    // The device's error scopes are held from the pushes to the pops (gpu-device.ts lockScopes), and
    // closed whatever fails between; pipelines compile outside them (a failed compile rejects its own promise).
    const scopes = { unlock: await this.gpu.lockScopes(), open: false };
    try {
      return await this.prepareLocked(plan, scopes);
    } finally {
      if (scopes.open) await Promise.all([this.gpu.device.popErrorScope(), this.gpu.device.popErrorScope()]).catch(() => undefined);
      scopes.unlock();
    }
  }

  private async prepareLocked(plan: ExecutionPlan, scopes: { unlock: () => void; open: boolean }): Promise<PreparedPlan> {
    checkNotLost(this.gpu);
    const { device, caps } = this.gpu;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    scopes.open = true;

    // 1. Placement and lowering (plan-lowering.ts, shared with the pipeline prewarm).
    const { lowerings, cpuReasons, root } = lowerPlan(plan, caps);
    const rootOf = (id: number): number => root.get(id) ?? id;

    // 2. Which values need a GPU buffer.
    const needsGpu = new Set<number>();
    plan.steps.forEach((step, i) => {
      const low = lowerings[i];
      if (!low) return;
      // Only inputs a program binds (or a view aliases) go to the GPU: shape, axes and pads inputs
      // are read on the host at plan time and may hold values (INT64_MAX ends) that i32 cannot.
      const bound = low.kind === 'view' ? [low.input] : low.programs.flatMap((p) => p.bindings.filter((b) => b.kind === 'input').map((b) => b.index));
      for (const slot of bound) if (step.inputs[slot] !== undefined) needsGpu.add(step.inputs[slot]!);
      for (const id of step.outputs) if (id >= 0) needsGpu.add(id);
    });
    const lastUse = new Map<number, number>();
    for (const v of plan.values) {
      const r = rootOf(v.id);
      lastUse.set(r, Math.max(lastUse.get(r) ?? -1, v.lastUse));
    }

    // 3. Buffers: constants once per session, inputs per plan, intermediates by lifetime.
    const uploadStart = performance.now();
    const buffers = new Map<number, GPUBuffer>();
    const assigner = new BufferAssigner(device, 'kiln-tensor', this.gpu.allocations);
    for (const id of needsGpu) {
      const v = plan.values[id]!;
      if (v.kind === 'const' && !root.has(id)) {
        buffers.set(id, this.constantBuffer(v.constValue!, v.name));
        this.preloaded.delete(v.constValue!);
      }
      else if (v.kind === 'input') buffers.set(id, assigner.take(sizeOfMeta(v.meta) * BYTES_PER_GPU_ELEMENT));
    }
    // Preloads this first plan did not claim were replaced by graph passes: free them now.
    for (const t of this.preloaded) {
      this.constants.get(t)?.destroy();
      this.constants.delete(t);
    }
    this.preloaded.clear();
    const uploadMs = performance.now() - uploadStart;
    const temps: GPUBuffer[][] = [];
    plan.steps.forEach((step, i) => {
      const low = lowerings[i];
      for (const id of step.outputs) {
        if (id < 0 || !needsGpu.has(id)) continue;
        if (root.has(id)) buffers.set(id, buffers.get(rootOf(id))!);
        else buffers.set(id, assigner.take(sizeOfMeta(plan.values[id]!.meta) * BYTES_PER_GPU_ELEMENT));
      }
      const stepTemps = low?.kind === 'programs' ? (low.temps ?? []).map((m) => assigner.take(sizeOfMeta(m) * BYTES_PER_GPU_ELEMENT)) : [];
      temps.push(stepTemps);
      for (const t of stepTemps) assigner.give(t);
      const released = new Set<number>();
      for (const id of [...step.inputs, ...step.outputs]) {
        if (id === undefined || id < 0) continue;
        const r = rootOf(id);
        const v = plan.values[r]!;
        if (v.kind !== 'intermediate' || v.isOutput || lastUse.get(r) !== step.index || released.has(r) || !buffers.has(r)) continue;
        released.add(r);
        assigner.give(buffers.get(r)!);
      }
    });

    // 4. Pipelines (compiled in parallel), one uniform buffer for the plan, bind groups.
    const programs: { step: number; program: GpuProgram }[] = [];
    lowerings.forEach((low, step) => low?.kind === 'programs' && low.programs.forEach((program) => programs.push({ step, program })));
    const uniformOffsets: number[] = [];
    let uniformBytes = 0;
    for (const { program } of programs) {
      uniformOffsets.push(uniformBytes);
      uniformBytes += Math.ceil(Math.max(16, program.uniforms.byteLength) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    }
    const uniformBuffer = createCountedBuffer(device, this.gpu.allocations, { label: 'kiln-uniforms', size: Math.max(16, uniformBytes), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const readOnlyOf = readOnlyBindings;
    const compileStart = performance.now();
    const compiling = Promise.all(programs.map(({ program }) => this.pipelines.get(program, this.pipelines.layoutFor(readOnlyOf(program)))));
    compiling.catch(() => undefined); // awaited after the scopes are popped
    this.pipelines.dropUnclaimed(); // pipelines compiled ahead that this plan did not ask for were wrong guesses
    const execs: StepExec[] = plan.steps.map((step) => ({ kind: 'cpu', step }));
    const encoded: (Omit<EncodedProgram, 'pipeline'> & { readonly step: number })[] = [];
    programs.forEach(({ step, program }, i) => {
      const s = plan.steps[step]!;
      device.queue.writeBuffer(uniformBuffer, uniformOffsets[i]!, program.uniforms as GpuUpload);
      const bufferFor = (ref: GpuProgram['bindings'][number]): GPUBuffer => {
        if (ref.kind === 'temp') return temps[step]![ref.index]!;
        if (ref.kind === 'constant') return this.constantBuffer(ref.data ?? fail('INTERNAL', `${program.label}: constant #${ref.index} has no data`), `${program.label}-${ref.index}`);
        const id = ref.kind === 'input' ? s.inputs[ref.index] : s.outputs[ref.index];
        // An output the model omits (e.g. MaxPool's Indices) still needs somewhere to go: a scratch buffer.
        if (ref.kind === 'output' && id === -1) return assigner.take(16);
        return (id !== undefined && buffers.get(id)) || fail('INTERNAL', `${program.label}: binding ${ref.kind} #${ref.index} has no buffer`);
      };
      const entries: GPUBindGroupEntry[] = program.bindings.map((ref, binding) => ({ binding, resource: { buffer: bufferFor(ref) } }));
      entries.push({ binding: program.bindings.length, resource: { buffer: uniformBuffer, offset: uniformOffsets[i]!, size: Math.max(16, program.uniforms.byteLength) } });
      const layout = this.pipelines.layoutFor(readOnlyOf(program));
      const bindGroup = device.createBindGroup({ label: program.label, layout, entries });
      const roots = program.bindings.map((ref) => {
        const id = ref.kind === 'temp' || ref.kind === 'constant' ? undefined : ref.kind === 'input' ? s.inputs[ref.index] : s.outputs[ref.index];
        return id === undefined || id < 0 ? undefined : rootOf(id);
      });
      encoded.push({ step, bindGroup, dispatch: program.dispatch, layout, entries, roots, rebound: new Map() });
      if (execs[step]!.kind === 'cpu') execs[step] = { kind: 'gpu', programs: [] };
    });
    lowerings.forEach((low, i) => {
      if (low?.kind === 'view' || (low?.kind === 'programs' && low.programs.length === 0)) execs[i] = { kind: 'gpu', programs: [] };
    });

    // 5. Readback staging for outputs that live on the GPU.
    const staging = new Map<number, GPUBuffer>();
    const needsHost = new Set<number>(plan.outputIds);
    plan.steps.forEach((s, i) => execs[i]!.kind === 'cpu' && s.inputs.forEach((id) => id !== undefined && needsHost.add(id)));
    for (const id of needsHost) {
      if (!buffers.has(id) || plan.values[id]!.kind !== 'intermediate') continue;
      const bytes = Math.max(16, sizeOfMeta(plan.values[id]!.meta) * BYTES_PER_GPU_ELEMENT);
      staging.set(id, createCountedBuffer(device, this.gpu.allocations, { label: `kiln-readback-${plan.values[id]!.name}`, size: Math.ceil(bytes / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    }
    scopes.open = false;
    const [oom, invalid] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    scopes.unlock();
    if (oom) fail('DEVICE_LIMIT', `out of GPU memory while preparing the model: ${oom.message}`);
    if (invalid) fail('INTERNAL', `WebGPU rejected the prepared plan: ${invalid.message}`);
    const compiled = await compiling;
    const compileMs = performance.now() - compileStart;
    encoded.forEach(({ step, ...program }, i) => {
      const exec = execs[step]!;
      if (exec.kind === 'gpu') exec.programs.push({ ...program, pipeline: compiled[i]! });
    });

    const steps: StepPlacement[] = plan.steps.map((s, i) => {
      const where = { node: s.node.name, opType: s.node.opType };
      return execs[i]!.kind === 'gpu' ? { ...where, device: 'gpu', implementation: 'webgpu' } : { ...where, device: 'cpu', reason: cpuReasons[i] ?? 'declined', implementation: 'js' };
    });
    const dispatches = execs.reduce((sum, e) => sum + (e.kind === 'gpu' ? e.programs.length : 0), 0);
    const placement: Placement = { gpu: execs.filter((e) => e.kind === 'gpu').length, cpu: execs.filter((e) => e.kind === 'cpu').length, steps, dispatches };
    // Tests set KILN_POISON_BUFFERS so a kernel that skips an element reads back NaN, not stale data.
    const poison = poisonRequested() ? (): void => {
      for (const b of assigner.all) device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(NaN));
    } : undefined;
    // Timestamp queries for the telemetry's GPU phase, created by the first timed run.
    let timestamps: PassTimestamps | undefined;
    // Values a CPU step reads: a gpu-buffer feed among them is downloaded rather than bound.
    const readOnHost = new Set<number>();
    plan.steps.forEach((s, i) => execs[i]!.kind === 'cpu' && s.inputs.forEach((id) => id !== undefined && readOnHost.add(id)));
    const layout: PlanLayout = { plan, execs, buffers, staging, readOnHost, rootOf };
    const run = (feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming, io?: RunIo): Promise<AnyTensor[]> => {
      poison?.();
      if (timing && !timestamps && device.features.has('timestamp-query')) timestamps = new PassTimestamps(device);
      return this.execute(layout, feeds, io, timing, timing ? timestamps : undefined);
    };
    return {
      placement,
      timings: { uploadMs, compileMs },
      run,
      release: () => {
        assigner.destroy();
        uniformBuffer.destroy();
        for (const b of staging.values()) b.destroy();
        timestamps?.destroy();
      },
    };
  }

  private async execute(layout: PlanLayout, allFeeds: ReadonlyMap<number, AnyTensor>, io: RunIo | undefined, timing?: RunTiming, timestamps?: PassTimestamps): Promise<AnyTensor[]> {
    checkNotLost(this.gpu);
    const { plan, execs, staging } = layout;
    const { device } = this.gpu;
    const { feeds, bound } = await this.bindGpuFeeds(layout, allFeeds);
    // Buffers made outside Kiln are checked by WebGPU's validation (an error scope costs a round
    // trip per run); Kiln's own (pooled outputs, generate()'s cache) are known to be this device's and alive.
    const callerBuffers = [...bound.values()].filter((b) => bufferDevices.get(b) !== this.gpu.device).length;
    // gpu-buffer outputs that own their buffer in the plan are written straight into a pooled buffer
    // the caller receives (bound like a fed buffer); views of other values are copied at the end.
    const direct = new Map<number, GPUBuffer>();
    for (const i of io?.gpuOutputs ?? []) {
      const id = plan.outputIds[i];
      if (id === undefined || direct.has(id) || bound.has(id) || layout.rootOf(id) !== id || !layout.buffers.has(id) || plan.values[id]!.kind !== 'intermediate') continue;
      const out = this.outputPool.take(sizeOfMeta(plan.values[id]!.meta) * BYTES_PER_GPU_ELEMENT);
      direct.set(id, out);
      bound.set(id, out);
    }
    const buffers: ReadonlyMap<number, GPUBuffer> = bound.size === 0 ? layout.buffers : new Map([...layout.buffers].map(([id, b]) => [id, bound.get(layout.rootOf(id)) ?? b]));
    // A caller's buffer that is destroyed, or of another device, fails validation at bind or submit:
    // caught here so the run fails with a typed error instead of returning stale outputs.
    // Another session on the shared device must not have scopes open meanwhile (gpu-device.ts lockScopes).
    const unlock = callerBuffers > 0 ? await this.gpu.lockScopes() : undefined;
    if (callerBuffers > 0) device.pushErrorScope('validation');
    // Pooled output buffers go back, and the error scope is closed, whatever fails on the way.
    const taken: GPUBuffer[] = [...direct.values()];
    let scopeOpen = callerBuffers > 0;
    try {
      const host = new Map<number, AnyTensor>(feeds);
      for (const [id, t] of feeds) {
        const buf = buffers.get(id);
        if (buf && t.size > 0) device.queue.writeBuffer(buf, 0, toGpuWords(t, plan.values[id]!.name));
      }
      const readHost = (id: number): AnyTensor => plan.values[id]!.constValue ?? host.get(id) ?? fail('INTERNAL', `value '${plan.values[id]!.name}' is not on the host`);
      let encoder = device.createCommandEncoder({ label: 'kiln-run' });
      let pass: GPUComputePassEncoder | undefined;
      const download = async (ids: number[]): Promise<void> => {
        pass?.end();
        pass = undefined;
        const gpuIds = ids.filter((id) => staging.has(id) && !host.has(id));
        for (const id of gpuIds) encoder.copyBufferToBuffer(buffers.get(id)!, 0, staging.get(id)!, 0, staging.get(id)!.size);
        const timed = timestamps?.resolve(encoder) ?? false;
        const submitted = timing ? performance.now() : 0;
        device.queue.submit([encoder.finish()]);
        // Telemetry: GPU time = submit -> work done; readback = work done -> outputs copied out. The
        // run never waits for onSubmittedWorkDone: when it has not fired by the time the outputs are
        // mapped, the mapping time counts as the end of GPU work.
        let workDoneAt: number | undefined;
        if (timing) void device.queue.onSubmittedWorkDone().then(() => (workDoneAt ??= performance.now()), () => undefined);
        encoder = device.createCommandEncoder({ label: 'kiln-run' });
        const [queried] = await Promise.all([timed ? timestamps!.read() : undefined, ...gpuIds.map((id) => staging.get(id)!.mapAsync(GPUMapMode.READ))]);
        const mapped = timing ? performance.now() : 0;
        for (const id of gpuIds) {
          const v = plan.values[id]!;
          const buf = staging.get(id)!;
          host.set(id, fromGpuWords(v.meta.dtype, v.meta.dims, buf.getMappedRange(), sizeOfMeta(v.meta)));
          buf.unmap();
        }
        checkNotLost(this.gpu);
        if (timing) {
          const doneAt = Math.min(workDoneAt ?? mapped, mapped);
          timing.firstSubmitAt ??= submitted;
          // With timestamp queries the GPU phase is the passes' own execution time; a run split into
          // several submissions (CPU-placed steps) counts as queried only if every part was.
          const queriedAll = queried !== undefined && timing.gpuSource !== 'submit-to-done';
          timing.gpuMs += queried ?? doneAt - submitted;
          timing.readbackMs += performance.now() - doneAt;
          timing.gpuSource = queriedAll ? 'timestamp-query' : 'submit-to-done';
        }
      };
      for (const exec of execs) {
        if (exec.kind === 'gpu') {
          for (const p of exec.programs) {
            pass ??= encoder.beginComputePass(timestamps ? timestamps.pass('kiln-pass') : { label: 'kiln-pass' });
            pass.setPipeline(p.pipeline);
            pass.setBindGroup(0, bound.size === 0 ? p.bindGroup : this.rebind(p, bound));
            pass.dispatchWorkgroups(p.dispatch[0], p.dispatch[1], p.dispatch[2]);
          }
          continue;
        }
        // A CPU step: finish pending GPU work (its buffers may be reused by what we upload next).
        await download(exec.step.inputs.filter((id): id is number => id !== undefined));
        const outs = runStepOnCpu(plan, exec.step, readHost);
        exec.step.outputs.forEach((id, i) => {
          if (id < 0) return;
          host.set(id, outs[i]!);
          const buf = buffers.get(id);
          if (buf && outs[i]!.size > 0) device.queue.writeBuffer(buf, 0, toGpuWords(outs[i]!, plan.values[id]!.name));
        });
      }
      // gpu-buffer outputs: copied on the GPU into a pooled buffer the caller owns (the plan's own
      // buffer is overwritten by the next run), so they never come back to the host.
      pass?.end();
      pass = undefined;
      const onGpu = new Map<number, GPUBuffer>(direct);
      for (const i of io?.gpuOutputs ?? []) {
        const id = plan.outputIds[i];
        if (id === undefined || onGpu.has(id) || !buffers.has(id) || plan.values[id]!.kind !== 'intermediate') continue; // inputs and constants come back on the CPU
        const bytes = sizeOfMeta(plan.values[id]!.meta) * BYTES_PER_GPU_ELEMENT;
        const out = this.outputPool.take(bytes);
        taken.push(out);
        if (bytes > 0) encoder.copyBufferToBuffer(buffers.get(id)!, 0, out, 0, bytes);
        onGpu.set(id, out);
      }
      await download(plan.outputIds.filter((id) => !onGpu.has(id)));
      if (scopeOpen) {
        scopeOpen = false;
        const invalid = await device.popErrorScope();
        unlock?.();
        if (invalid) {
          fail('INPUT_MISMATCH', `a gpu-buffer input could not be used (a buffer of another GPUDevice, or destroyed?): ${invalid.message}`);
        }
      }
      return plan.outputIds.map((id) => {
        const buf = onGpu.get(id);
        return buf ? this.gpuOutput(buf, plan.values[id]!.meta) : readHost(id);
      });
    } catch (e) {
      if (scopeOpen) await device.popErrorScope().catch(() => undefined);
      unlock?.();
      for (const b of taken) this.outputPool.give(b);
      throw e;
    }
  }

  /**
   * Splits feeds into host tensors (uploaded as before) and gpu-buffer tensors bound in place of
   * the plan's input buffers. A gpu-buffer feed a CPU step reads, or that no GPU step binds, is
   * downloaded instead.
   */
  private async bindGpuFeeds(layout: PlanLayout, feeds: ReadonlyMap<number, AnyTensor>): Promise<{ feeds: Map<number, AnyTensor>; bound: Map<number, GPUBuffer> }> {
    const host = new Map<number, AnyTensor>();
    const bound = new Map<number, GPUBuffer>();
    for (const [id, t] of feeds) {
      if (t.location !== 'gpu-buffer') {
        host.set(id, t);
        continue;
      }
      const name = layout.plan.values[id]!.name;
      const buffer = t.gpuBuffer;
      const owner = bufferDevices.get(buffer);
      if (owner && owner !== this.gpu.device) fail('INPUT_MISMATCH', `input '${name}': its GPU buffer belongs to another GPUDevice (one lost and replaced since?); feed a CPU tensor or one made on session.gpuDevice`, { input: name });
      if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) fail('INPUT_MISMATCH', `input '${name}': a GPU buffer fed to Kiln needs STORAGE usage`, { input: name });
      if (buffer.size < t.size * BYTES_PER_GPU_ELEMENT) fail('INPUT_MISMATCH', `input '${name}': the GPU buffer has ${buffer.size} bytes, the tensor needs ${t.size * BYTES_PER_GPU_ELEMENT}`, { input: name });
      if (!layout.buffers.has(id) || layout.readOnHost.has(id)) host.set(id, new Tensor(t.type, await t.getData(), t.dims));
      else bound.set(id, buffer);
    }
    return { feeds: host, bound };
  }

  /** The program's bind group with callers' buffers in place of the plan's, made once per combination. */
  private rebind(p: EncodedProgram, bound: ReadonlyMap<number, GPUBuffer>): GPUBindGroup {
    const swaps = p.roots.map((r) => (r === undefined ? undefined : bound.get(r)));
    if (swaps.every((b) => b === undefined)) return p.bindGroup;
    const key = swaps.map((b) => (b ? bufferId(b) : 0)).join(',');
    let group = p.rebound.get(key);
    if (!group) {
      const entries = p.entries.map((e, i) => (swaps[i] ? { binding: e.binding, resource: { buffer: swaps[i] } } : e));
      group = this.gpu.device.createBindGroup({ label: 'kiln-rebound', layout: p.layout, entries });
      if (p.rebound.size >= MAX_REBOUND) p.rebound.clear();
      p.rebound.set(key, group);
    }
    return group;
  }

  /** A pooled output buffer as a 'gpu-buffer' tensor: getData() downloads it, dispose() gives it back. */
  private gpuOutput(buffer: GPUBuffer, meta: TensorMeta): AnyTensor {
    const { device } = this.gpu;
    const count = sizeOfMeta(meta);
    let disposed = false;
    return gpuBufferTensor(buffer, {
      dataType: meta.dtype,
      dims: meta.dims,
      download: async () => {
        checkNotLost(this.gpu);
        const staging = this.stagingPool.take(count * BYTES_PER_GPU_ELEMENT);
        try {
          const encoder = device.createCommandEncoder({ label: 'kiln-download' });
          if (count > 0) encoder.copyBufferToBuffer(buffer, 0, staging, 0, count * BYTES_PER_GPU_ELEMENT);
          device.queue.submit([encoder.finish()]);
          await staging.mapAsync(GPUMapMode.READ);
          const t = fromGpuWords(meta.dtype, meta.dims, staging.getMappedRange(), count);
          staging.unmap();
          return t.data;
        } finally {
          this.stagingPool.give(staging);
        }
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (!this.gpu.lost) this.outputPool.give(buffer);
      },
    });
  }

  /** What this device has allocated (buffers and bytes), for tests that check a loop allocates nothing. */
  get allocations(): { readonly buffers: number; readonly bytes: number } {
    return { ...this.gpu.allocations };
  }

  preload(t: AnyTensor, name: string): void {
    if (this.constants.has(t)) return;
    this.constantBuffer(t, name);
    this.preloaded.add(t);
  }

  private constantBuffer(t: AnyTensor, name: string): GPUBuffer {
    let buf = this.constants.get(t);
    if (!buf) {
      const words = packedPerWord(t.type) ? toPackedWords(t) : toGpuWords(t, name);
      buf = createCountedBuffer(this.gpu.device, this.gpu.allocations, { label: `kiln-const-${name}`, size: Math.max(16, Math.ceil(words.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      if (words.byteLength > 0) this.gpu.device.queue.writeBuffer(buf, 0, words);
      this.constants.set(t, buf);
    }
    return buf;
  }

  release(): void {
    for (const b of this.constants.values()) b.destroy();
    this.constants.clear();
    this.outputPool.destroy();
    this.stagingPool.destroy();
    this.gpu.release();
  }
}
