import { KilnError } from '../../../core/errors.ts';
import type { GpuProgram } from '../../../kernels/webgpu/contract.ts';

/** KILN_PRINT_WGSL (core/dev-knobs.ts): 'MatMul' (an op-type substring) or '*' prints generated shaders. */
function maybePrint(program: GpuProgram): void {
  const filter = devKnobFromEnv('KILN_PRINT_WGSL');
  if (typeof filter === 'string' && filter !== '' && (filter === '*' || program.label.includes(filter))) console.log(`// ${program.label}\n${program.shader}`);
}

export type { PipelineCounts } from './pipeline-counts.ts';
import type { PipelineCounts } from './pipeline-counts.ts';
import { devKnobFromEnv } from '../../../core/dev-knobs.ts';

/** What a program binds: its inputs read-only, its outputs and temps read-write (the layout's key). */
export const readOnlyBindings = (p: GpuProgram): boolean[] => p.bindings.map((b) => b.kind === 'input' || b.kind === 'constant' || b.readOnly === true);

/**
 * Pipelines and layouts made on a device, for every session on it (sessions share one device:
 * gpu-device.ts acquireGpuDevice): a second session of a model finds its pipelines compiled. Gone with the device.
 */
const onDevice = new WeakMap<GPUDevice, { readonly pipelines: Map<string, Promise<GPUComputePipeline>>; readonly layouts: Map<string, GPUBindGroupLayout> }>();

/**
 * Compute pipelines keyed by WGSL text (which names everything a shader depends on), compiled with
 * createComputePipelineAsync so many compile in parallel; layouts are explicit so bindings a
 * shader leaves unused still bind.
 */
export class PipelineCache {
  /** the pipelines this session asked for (its plans' and its guesses') */
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly shared: { readonly pipelines: Map<string, Promise<GPUComputePipeline>>; readonly layouts: Map<string, GPUBindGroupLayout> };
  private readonly layouts: Map<string, GPUBindGroupLayout>;
  /** keys compiled ahead that no plan has asked for yet */
  private readonly ahead = new Set<string>();
  private readonly counted = { ahead: 0, onDemand: 0, claimed: 0, dropped: 0, pending: 0, reused: 0 };

  constructor(private readonly device: GPUDevice) {
    let shared = onDevice.get(device);
    if (!shared) onDevice.set(device, (shared = { pipelines: new Map(), layouts: new Map() }));
    this.shared = shared;
    this.layouts = shared.layouts;
  }

  get size(): number {
    return this.pipelines.size;
  }

  layoutFor(readOnly: readonly boolean[]): GPUBindGroupLayout {
    const key = readOnly.map((r) => (r ? 'r' : 'w')).join('');
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = readOnly.map((r, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: r ? 'read-only-storage' : 'storage' },
      }));
      entries.push({ binding: readOnly.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
      layout = this.device.createBindGroupLayout({ label: `kiln-layout-${key}`, entries });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  get counts(): PipelineCounts {
    return { ...this.counted };
  }

  get(program: GpuProgram, layout: GPUBindGroupLayout): Promise<GPUComputePipeline> {
    const key = keyOf(program, layout);
    if (this.ahead.delete(key)) this.counted.claimed++;
    const known = this.pipelines.get(key) ?? this.reuse(key);
    if (known) return known;
    this.counted.onDemand++;
    return this.compile(key, program, layout);
  }

  /**
   * Starts compiling a pipeline a plan is expected to ask for. Only a later get() with exactly this
   * key uses it; dropUnclaimed() forgets those nobody asked for. Its failure surfaces there, not here.
   */
  prewarm(program: GpuProgram, layout: GPUBindGroupLayout): void {
    const key = keyOf(program, layout);
    if (this.pipelines.has(key) || this.reuse(key)) return;
    this.counted.ahead++;
    this.ahead.add(key);
    this.compile(key, program, layout).catch(() => undefined);
  }

  /** Forgets the pipelines compiled ahead that no plan asked for (WebGPU has no destroy for pipelines: they are collected). */
  dropUnclaimed(): void {
    for (const key of this.ahead) this.pipelines.delete(key);
    this.counted.dropped += this.ahead.size;
    this.ahead.clear();
  }

  /** Another session's pipeline for `key`, now this session's too (counted as reused). */
  private reuse(key: string): Promise<GPUComputePipeline> | undefined {
    const p = this.shared.pipelines.get(key);
    if (!p) return undefined;
    this.counted.reused++;
    this.pipelines.set(key, p);
    return p;
  }

  /** Resolves once no compile is in flight (a load that failed gives its device back only then). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pipelines.values()]);
  }

  private compile(key: string, program: GpuProgram, layout: GPUBindGroupLayout): Promise<GPUComputePipeline> {
    maybePrint(program);
    const module = this.device.createShaderModule({ label: program.label, code: program.shader });
    const p = this.device
      .createComputePipelineAsync({
        label: program.label,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      })
      .catch(async (e: unknown) => {
        const info = await module.getCompilationInfo().catch(() => undefined);
        const messages = info?.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n') ?? '';
        throw new KilnError('INTERNAL', `pipeline '${program.label}' failed to compile: ${(e as Error).message}\n${messages}`);
      });
    this.counted.pending++;
    p.finally(() => this.counted.pending--).catch(() => undefined);
    this.pipelines.set(key, p);
    this.shared.pipelines.set(key, p);
    return p;
  }
}

const keyOf = (program: GpuProgram, layout: GPUBindGroupLayout): string => `${program.shader}\n//layout:${layout.label}`;
