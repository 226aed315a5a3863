import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { inferKvCacheWrite } from './write-op.ts';
import { kvCacheAttention } from './attention-webgpu.ts';

/**
 * One pass over the output: a position inside [offset, offset + S) takes the new row, any other the
 * cache's. The offset is read from its buffer on the GPU, so one pipeline and one plan serve every
 * step. An offset the reference rejects cannot be reported from a shader: here rows that would fall
 * outside the cache are dropped (generate() checks the offset before it feeds it).
 */
const kvCacheWrite: WebGpuKernel = (inputs, outputs, ctx) => {
  const { shape } = inferKvCacheWrite(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const C = b.input('C', inputs[0]!, 0);
  const N = b.input('N', inputs[1]!, 1);
  const O = b.input('O', inputs[2]!, 2);
  const Y = b.output('Y', outputs[0]!);
  const total = shape.slabs * shape.capacity * shape.width;
  const n = b.uniform('n', 'u32', total);
  const width = b.uniform('width', 'u32', shape.width);
  const capacity = b.uniform('capacity', 'u32', shape.capacity);
  const count = b.uniform('count', 'u32', shape.count);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let offset = i32(${O.get('0u')});`,
    `  let d = global_idx % ${width};`,
    `  let row = i32((global_idx / ${width}) % ${capacity});`,
    `  let slab = global_idx / (${width} * ${capacity});`,
    `  let k = row - offset;`,
    `  if (k >= 0 && k < i32(${count})) { ${Y.set('global_idx', N.get(`(slab * ${count} + u32(k)) * ${width} + d`))} return; }`,
    `  ${Y.set('global_idx', C.get('global_idx'))}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `KvCacheWrite:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'KvCacheWrite')]: kvCacheWrite, [opKey('kiln', 'KvCacheAttention')]: kvCacheAttention };
