import { KilnError } from '../../../core/errors.ts';
import type { GpuProgram } from '../../../kernels/webgpu/contract.ts';

/** Set `globalThis.KILN_PRINT_WGSL = 'MatMul'` (an op-type substring, or '*') to print generated shaders. */
function maybePrint(program: GpuProgram): void {
  const filter = (globalThis as { KILN_PRINT_WGSL?: string }).KILN_PRINT_WGSL ?? (typeof process !== 'undefined' ? process.env?.KILN_PRINT_WGSL : undefined);
  if (filter && (filter === '*' || program.label.includes(filter))) console.log(`// ${program.label}\n${program.shader}`);
}

/**
 * Compute pipelines keyed by WGSL text (which names everything a shader depends on), compiled with
 * createComputePipelineAsync so many compile in parallel; layouts are explicit so bindings a
 * shader leaves unused still bind.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  constructor(private readonly device: GPUDevice) {}

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

  get(program: GpuProgram, layout: GPUBindGroupLayout): Promise<GPUComputePipeline> {
    const key = `${program.shader}\n//layout:${layout.label}`;
    let p = this.pipelines.get(key);
    if (!p) {
      maybePrint(program);
      const module = this.device.createShaderModule({ label: program.label, code: program.shader });
      p = this.device
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
      this.pipelines.set(key, p);
    }
    return p;
  }
}
