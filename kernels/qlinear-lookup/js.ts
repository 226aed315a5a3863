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
  const ts = table.data as Uint8Array | Int8Array;
  const y = out.dtype === 'int8' ? new Int8Array(xs.length) : new Uint8Array(xs.length);
  for (let i = 0; i < xs.length; i++) y[i] = ts[xs[i]! - base]!;
  return [y instanceof Int8Array ? new Tensor('int8', y, out.dims) : new Tensor('uint8', y, out.dims)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
