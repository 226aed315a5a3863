import type { AnyTensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import { packedPerWord, storageType, BYTES_PER_GPU_ELEMENT } from '../../../kernels/webgpu/storage.ts';
import type { TensorMeta } from '../../../kernels/contract.ts';
import type { GpuLowering, GpuProgram } from '../../../kernels/webgpu/contract.ts';
import { webgpuKernelFor } from '../../../kernels/webgpu/kernels.ts';
import type { ExecutionPlan, PlannedStep } from '../../plan/execution-plan.ts';
import type { Backend, Placement, PreparedPlan, StepPlacement } from '../backend.ts';
import { runStepOnCpu } from '../cpu/run-step.ts';
import { BufferAssigner } from './buffer-assignment.ts';
import { checkNotLost, createGpuDevice, type GpuDeviceContext } from './gpu-device.ts';
import type { KernelTuning } from './kernel-tuning.ts';
import { PipelineCache } from './pipeline-cache.ts';
import { fromGpuWords, toGpuWords, toPackedWords, type GpuUpload } from './transfer.ts';
import type { RunTiming } from '../../telemetry/latency/run-timing.ts';
import { PassTimestamps } from './pass-timestamps.ts';

function poisonRequested(): boolean {
  const g = globalThis as { KILN_POISON_BUFFERS?: boolean; process?: { env?: Record<string, string | undefined> } };
  return g.KILN_POISON_BUFFERS === true || g.process?.env?.KILN_POISON_BUFFERS === '1';
}

const sizeOfMeta = (m: TensorMeta): number => m.dims.reduce((a, b) => a * b, 1);
const UNIFORM_ALIGN = 256;

interface EncodedProgram {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly dispatch: readonly [number, number, number];
}

type StepExec = { readonly kind: 'gpu'; readonly programs: EncodedProgram[] } | { readonly kind: 'cpu'; readonly step: PlannedStep };

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  private readonly pipelines: PipelineCache;
  /** constants stay resident for the session, shared by every plan */
  private readonly constants = new Map<AnyTensor, GPUBuffer>();
  /** constants uploaded by preload() that no prepared plan has claimed yet */
  private readonly preloaded = new Set<AnyTensor>();

  private constructor(readonly gpu: GpuDeviceContext) {
    this.pipelines = new PipelineCache(gpu.device);
  }

  static async create(tuning: KernelTuning = 'auto'): Promise<WebGpuBackend> {
    const backend = new WebGpuBackend(await createGpuDevice(tuning));
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

  async prepare(plan: ExecutionPlan): Promise<PreparedPlan> {
    checkNotLost(this.gpu);
    const { device, caps } = this.gpu;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');

    // 1. Placement: a step runs on the GPU when every tensor it touches has a GPU storage type
    //    and its kernel lowers this case; otherwise on the CPU, with transfers around it.
    //    8/4-bit constants (quantized weights) stay packed; views of them inherit the packing.
    const root = new Map<number, number>();
    const rootOf = (id: number): number => root.get(id) ?? id;
    const packed = (id: number): boolean => {
      const v = plan.values[rootOf(id)]!;
      return v.kind === 'const' && packedPerWord(v.meta.dtype) !== undefined;
    };
    const cpuReasons: StepPlacement['reason'][] = plan.steps.map(() => undefined);
    const lowerings: (GpuLowering | undefined)[] = plan.steps.map((step, i) => {
      const lower = webgpuKernelFor(step.op);
      if (!lower) return ((cpuReasons[i] = 'no-kernel'), undefined);
      const metas = step.inputs.map((id) => (id === undefined ? undefined : packed(id) ? { ...plan.values[id]!.meta, packed: true } : plan.values[id]!.meta));
      const outs = step.outputs.map((id) => (id >= 0 ? plan.values[id]!.meta : { dtype: 'float32' as const, dims: [0] }));
      if ([...metas, ...outs].some((m) => m !== undefined && !storageType(m.dtype))) return ((cpuReasons[i] = 'dtype'), undefined);
      for (const [i, m] of [...metas, ...outs].entries()) {
        if (m && sizeOfMeta(m) * BYTES_PER_GPU_ELEMENT > caps.maxStorageBufferBindingSize) {
          fail('DEVICE_LIMIT', `${step.node.opType} node '${step.node.name}': tensor #${i} needs ${sizeOfMeta(m) * BYTES_PER_GPU_ELEMENT} bytes, over this device's ${caps.maxStorageBufferBindingSize}-byte binding limit`);
        }
      }
      const low = lower(metas, outs, { ...step.ctx, caps });
      if (low?.kind === 'view') root.set(step.outputs[0]!, rootOf(step.inputs[low.input]!));
      if (!low) cpuReasons[i] = 'declined';
      return low;
    });

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
    const assigner = new BufferAssigner(device, 'kiln-tensor');
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
    const uniformBuffer = device.createBuffer({ label: 'kiln-uniforms', size: Math.max(16, uniformBytes), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const readOnlyOf = (p: GpuProgram): boolean[] => p.bindings.map((b) => b.kind === 'input');
    const compileStart = performance.now();
    const compiled = await Promise.all(programs.map(({ program }) => this.pipelines.get(program, this.pipelines.layoutFor(readOnlyOf(program)))));
    const compileMs = performance.now() - compileStart;
    const execs: StepExec[] = plan.steps.map((step) => ({ kind: 'cpu', step }));
    programs.forEach(({ step, program }, i) => {
      const s = plan.steps[step]!;
      device.queue.writeBuffer(uniformBuffer, uniformOffsets[i]!, program.uniforms as GpuUpload);
      const bufferFor = (ref: GpuProgram['bindings'][number]): GPUBuffer => {
        if (ref.kind === 'temp') return temps[step]![ref.index]!;
        const id = ref.kind === 'input' ? s.inputs[ref.index] : s.outputs[ref.index];
        // An output the model omits (e.g. MaxPool's Indices) still needs somewhere to go: a scratch buffer.
        if (ref.kind === 'output' && id === -1) return assigner.take(16);
        return (id !== undefined && buffers.get(id)) || fail('INTERNAL', `${program.label}: binding ${ref.kind} #${ref.index} has no buffer`);
      };
      const entries: GPUBindGroupEntry[] = program.bindings.map((ref, binding) => ({ binding, resource: { buffer: bufferFor(ref) } }));
      entries.push({ binding: program.bindings.length, resource: { buffer: uniformBuffer, offset: uniformOffsets[i]!, size: Math.max(16, program.uniforms.byteLength) } });
      const bindGroup = device.createBindGroup({ label: program.label, layout: this.pipelines.layoutFor(readOnlyOf(program)), entries });
      const prev = execs[step]!;
      const list = prev.kind === 'gpu' ? prev.programs : [];
      list.push({ pipeline: compiled[i]!, bindGroup, dispatch: program.dispatch });
      execs[step] = { kind: 'gpu', programs: list };
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
      staging.set(id, device.createBuffer({ label: `kiln-readback-${plan.values[id]!.name}`, size: Math.ceil(bytes / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    }
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (oom) fail('DEVICE_LIMIT', `out of GPU memory while preparing the model: ${oom.message}`);
    if (invalid) fail('INTERNAL', `WebGPU rejected the prepared plan: ${invalid.message}`);

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
    const run = (feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming): Promise<AnyTensor[]> => {
      poison?.();
      if (timing && !timestamps && device.features.has('timestamp-query')) timestamps = new PassTimestamps(device);
      return this.execute(plan, execs, buffers, staging, feeds, timing, timing ? timestamps : undefined);
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

  private async execute(plan: ExecutionPlan, execs: readonly StepExec[], buffers: ReadonlyMap<number, GPUBuffer>, staging: ReadonlyMap<number, GPUBuffer>, feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming, timestamps?: PassTimestamps): Promise<AnyTensor[]> {
    checkNotLost(this.gpu);
    const { device } = this.gpu;
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
          pass.setBindGroup(0, p.bindGroup);
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
    await download([...plan.outputIds]);
    return plan.outputIds.map(readHost);
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
      buf = this.gpu.device.createBuffer({ label: `kiln-const-${name}`, size: Math.max(16, Math.ceil(words.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      if (words.byteLength > 0) this.gpu.device.queue.writeBuffer(buf, 0, words);
      this.constants.set(t, buf);
    }
    return buf;
  }

  release(): void {
    for (const b of this.constants.values()) b.destroy();
    this.constants.clear();
    this.gpu.device.destroy();
  }
}
