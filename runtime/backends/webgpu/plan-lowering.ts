// Step 1 of preparing a plan for WebGPU, shared by prepare() and the pipeline prewarm: which steps
// run on the GPU and the programs (WGSL) each lowers to. One function for both, so a pipeline
// compiled ahead from a plan of the same shapes has exactly the key prepare() asks for.
import { fail } from '../../../core/errors.ts';
import { packedPerWord, storageType, BYTES_PER_GPU_ELEMENT } from '../../../kernels/webgpu/storage.ts';
import type { TensorMeta } from '../../../kernels/contract.ts';
import type { GpuCaps, GpuLowering } from '../../../kernels/webgpu/contract.ts';
import { webgpuKernelFor } from '../../../kernels/webgpu/kernels.ts';
import type { ExecutionPlan } from '../../plan/execution-plan.ts';
import type { StepPlacement } from '../backend.ts';

export interface LoweredPlan {
  readonly lowerings: readonly (GpuLowering | undefined)[];
  readonly cpuReasons: readonly StepPlacement['reason'][];
  /** value id -> the id whose buffer it shares (views) */
  readonly root: ReadonlyMap<number, number>;
}

const sizeOfMeta = (m: TensorMeta): number => m.dims.reduce((a, b) => a * b, 1);

/**
 * A step runs on the GPU when every tensor it touches has a GPU storage type and its kernel lowers
 * this case; otherwise on the CPU, with transfers around it. 8/4-bit constants (quantized weights)
 * stay packed; views of them inherit the packing.
 */
export function lowerPlan(plan: ExecutionPlan, caps: GpuCaps): LoweredPlan {
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
    const constants = step.inputs.map((id) => (id === undefined ? undefined : plan.values[id]!.constValue));
    const low = lower(metas, outs, { ...step.ctx, caps, constants });
    if (low?.kind === 'view') root.set(step.outputs[0]!, rootOf(step.inputs[low.input]!));
    if (!low) cpuReasons[i] = 'declined';
    return low;
  });
  return { lowerings, cpuReasons, root };
}
