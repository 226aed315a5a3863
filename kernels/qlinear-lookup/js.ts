import { Tensor } from '../../core/tensor.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { lookupBase, planLookup } from './op.ts';

/** One typed-array loop, no per-element allocation (the reference goes through a number array). */
const qlinearLookup: CpuKernel = (inputs, ctx) => {
  const [x, table] = [inputs[0]!, inputs[1]!];
  const out = planLookup([metaOf(x), metaOf(table)], ctx);
  const base = lookupBase(x.type);
  const xs = x.data as Uint8Array | Int8Array;
  const ts = table.data as Uint8Array | Int8Array | Float32Array;
  const fill = <T extends Uint8Array | Int8Array | Float32Array>(y: T): T => {
    for (let i = 0; i < xs.length; i++) y[i] = ts[xs[i]! - base]!;
    return y;
  };
  if (out.dtype === 'float32') return [new Tensor('float32', fill(new Float32Array(xs.length)), out.dims)];
  return [out.dtype === 'int8' ? new Tensor('int8', fill(new Int8Array(xs.length)), out.dims) : new Tensor('uint8', fill(new Uint8Array(xs.length)), out.dims)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
