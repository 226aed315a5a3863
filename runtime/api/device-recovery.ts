// GPU device loss (driver reset, tab in the background on some systems, device.destroy()): the
// session keeps working. A WebGPU backend is wrapped so that when its device is lost it starts a new
// device and prepares every live plan on it again (re-uploading the weights), or, when that fails or
// keeps happening, moves to the CPU backend; then it reports what happened through onDeviceLost.
// A run in flight when the device goes is not left waiting on it: it is run again once recovered.
import type { AnyTensor } from '../../core/tensor.ts';
import type { Backend, BackendName, PreparedPlan, RunIo } from '../backends/backend.ts';
import type { DeviceLostEvent, DeviceLostListener } from './device-events.ts';
import { JsBackend } from '../backends/js/js-backend.ts';
import type { GpuDeviceContext } from '../backends/webgpu/gpu-device.ts';
import type { KernelTuning } from '../backends/webgpu/kernel-tuning.ts';
import type { PipelineCounts } from '../backends/webgpu/pipeline-counts.ts';
import { WebGpuBackend } from '../backends/webgpu/webgpu-backend.ts';
import { fail } from '../../core/errors.ts';
import type { ExecutionPlan } from '../plan/execution-plan.ts';
import type { RunTiming } from '../telemetry/latency/run-timing.ts';

/** After this many losses the session stops trying new GPU devices and stays on the CPU. */
const MAX_GPU_RECOVERIES = 2;

class Lost extends Error {}

interface LivePlan {
  readonly plan: ExecutionPlan;
  inner: PreparedPlan;
  generation: number;
}

export class RecoveringBackend implements Backend {
  private current: Backend;
  private generation = 0;
  private losses = 0;
  private recovering: Promise<void> | undefined;
  private released = false;
  private readonly plans = new Set<LivePlan>();

  /** replacement devices are created with the kernel tuning the first one was asked for */
  private readonly tuning: KernelTuning;

  constructor(first: WebGpuBackend, private readonly listener?: DeviceLostListener) {
    this.current = first;
    this.tuning = first.tuning;
    this.watch(first);
  }

  get name(): BackendName {
    return this.current.name;
  }

  get adapterInfo(): string {
    return this.current.adapterInfo;
  }

  /** the device context while on WebGPU (diagnostics and tests reach the device through it) */
  get gpu(): GpuDeviceContext | undefined {
    return this.current instanceof WebGpuBackend ? this.current.gpu : undefined;
  }

  async prepare(plan: ExecutionPlan): Promise<PreparedPlan> {
    let live: LivePlan | undefined;
    await this.retrying(async (backend, generation) => {
      live = { plan, inner: await backend.prepare(plan), generation };
    });
    if (!live) return fail('INTERNAL', 'a plan was not prepared');
    const ready = live;
    this.plans.add(ready);
    return {
      get placement() {
        return ready.inner.placement;
      },
      get timings() {
        return ready.inner.timings;
      },
      run: (feeds, timing, io) => this.run(ready, feeds, timing, io),
      release: () => {
        this.plans.delete(ready);
        ready.inner.release();
      },
    };
  }

  preload(tensor: AnyTensor, name: string): void {
    // A loss meanwhile only loses the head start: prepare() uploads what is missing.
    if (!this.recovering) this.current.preload?.(tensor, name);
  }

  prewarm(plan: ExecutionPlan): number {
    return this.recovering ? 0 : (this.current.prewarm?.(plan) ?? 0);
  }

  async settled(): Promise<void> {
    await this.current.settled?.();
  }

  /** WebGPU: pipelines compiled ahead and on demand on the current device (undefined on a CPU backend) */
  get pipelineCounts(): PipelineCounts | undefined {
    return this.current instanceof WebGpuBackend ? this.current.pipelineCounts : undefined;
  }

  release(): void {
    this.released = true;
    this.current.release();
  }

  private run(live: LivePlan, feeds: ReadonlyMap<number, AnyTensor>, timing?: RunTiming, io?: RunIo): Promise<AnyTensor[]> {
    return this.retrying(async (backend, generation) => {
      if (live.generation !== generation) {
        live.inner = await backend.prepare(live.plan); // recovery could not prepare it: now
        live.generation = generation;
      }
      return live.inner.run(feeds, timing, io);
    });
  }

  /**
   * Runs `work` on the current backend. When that backend's device is lost meanwhile, `work` is
   * abandoned (it may never settle) and run again on whatever the recovery set up.
   */
  private async retrying<T>(work: (backend: Backend, generation: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.recovering;
      const backend = this.current;
      const generation = this.generation;
      try {
        const pending = work(backend, generation);
        if (!(backend instanceof WebGpuBackend)) return await pending;
        pending.catch(() => undefined);
        return await Promise.race([pending, backend.gpu.device.lost.then((): never => { throw new Lost(); })]);
      } catch (e) {
        if (!(await this.lostWhileUsing(backend, e))) throw e;
        if (attempt >= MAX_GPU_RECOVERIES + 1) fail('DEVICE_LOST', 'the GPU device was lost again and again; giving up');
      }
    }
  }

  private async lostWhileUsing(backend: Backend, e: unknown): Promise<boolean> {
    if (e instanceof Lost) return true;
    if (!(backend instanceof WebGpuBackend) || this.released) return false;
    // A mapAsync that fails because of the loss can reject before device.lost settles.
    await Promise.race([backend.gpu.device.lost, new Promise((r) => setTimeout(r, 50))]);
    return this.current !== backend || this.recovering !== undefined;
  }

  private watch(backend: WebGpuBackend): void {
    void backend.gpu.device.lost.then((info) => {
      if (this.released || this.current !== backend) return; // our own release() destroys it too
      this.recovering = this.recover(info).finally(() => (this.recovering = undefined));
    });
  }

  private async recover(info: GPUDeviceLostInfo): Promise<void> {
    this.losses++;
    this.generation++;
    for (const live of this.plans) live.inner.release();
    this.current.release();
    let next: Backend | undefined;
    if (this.losses <= MAX_GPU_RECOVERIES) {
      let gpu: WebGpuBackend | undefined;
      try {
        gpu = await WebGpuBackend.create(this.tuning);
        await this.prepareAll(gpu);
        next = gpu;
      } catch {
        gpu?.release(); // no new device, or it failed too: the CPU takes over
      }
    }
    if (!next) {
      this.generation++; // plans prepared on the failed device are stale too
      // loaded only now: pages on the WebGPU path do not download the wasm backend up front
      next = await import('../backends/wasm/start-wasm.ts').then(({ startWasmBackend }) => startWasmBackend({})).catch((e: unknown) => new JsBackend('fast', `wasm could not start: ${(e as Error).message}`));
      await this.prepareAll(next).catch(() => undefined); // plans that still fail are prepared again at their next run
    }
    this.current = next;
    if (next instanceof WebGpuBackend) this.watch(next);
    if (this.released) next.release();
    const event: DeviceLostEvent = { reason: info.reason, message: info.message, executionProvider: next.name, adapterInfo: next.adapterInfo };
    if (!this.listener) console.warn(`kiln: the GPU device was lost (${info.reason}: ${info.message}); the session now runs on ${event.executionProvider} (${event.adapterInfo})`);
    try {
      this.listener?.(event);
    } catch (e) {
      console.error('kiln: an onDeviceLost listener threw', e); // the caller's bug must not fail runs
    }
  }

  private async prepareAll(backend: Backend): Promise<void> {
    const lost = backend instanceof WebGpuBackend ? backend.gpu.device.lost.then((): never => { throw new Lost(); }) : undefined;
    lost?.catch(() => undefined);
    for (const live of this.plans) {
      const prepared = backend.prepare(live.plan);
      live.inner = await (lost ? Promise.race([prepared, lost]) : prepared);
      live.generation = this.generation;
    }
  }
}
