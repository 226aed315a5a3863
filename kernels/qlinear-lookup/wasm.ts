import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { lookupBase, planLookup } from './op.ts';

/**
 * kiln.QLinearLookup in wasm (kernels/wasm/src/lookup-u8.c; 8-bit or float32 tables): a constant table is copied once into
 * persistent memory at prepare; a table fed at run time declines (runs js).
 */
const qlinearLookup: WasmKernel = (inputs, outputs, ctx) => {
  planLookup(inputs, ctx);
  const table = ctx.constants[1];
  if (!table) return undefined;
  const n = inputs[0]!.dims.reduce((a, d) => a * d, 1);
  const flip = lookupBase(inputs[0]!.dtype) === 0 ? 0 : 1;
  const name = table.type === 'float32' ? 'kiln_lookup_f32' : 'kiln_lookup_u8';
  const data = table.data as Uint8Array | Int8Array | Float32Array;
  let f: WasmExport | undefined;
  return {
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [data.byteLength],
    prepare(k, at) {
      f = k.fn(name);
      new Uint8Array(k.memory.buffer, at.persistent[0]!, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    },
    run(k, at) {
      f ??= k.fn(name);
      f(at.inputs[0]!, at.persistent[0]!, at.outputs[0]!, n, flip);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
