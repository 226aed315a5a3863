import { kernels as allKernels } from './all.ts';
import type { OpKernel } from './types.ts';

/** One typed registry from (domain, op type) to implementation. */
const byKey = new Map<string, OpKernel>();
for (const k of allKernels) {
  const key = `${k.domain ?? ''}::${k.opType}`;
  if (byKey.has(key)) throw new Error(`kernel ${key} registered twice`);
  byKey.set(key, k);
}

export function resolveKernel(domain: string, opType: string): OpKernel | undefined {
  return byKey.get(`${domain === 'ai.onnx' ? '' : domain}::${opType}`);
}

export function registeredOps(): { domain: string; opType: string; gpu: boolean }[] {
  return [...byKey.values()].map((k) => ({ domain: k.domain ?? '', opType: k.opType, gpu: k.webgpu !== undefined }));
}
