import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { lookupBase, planLookup } from './op.ts';

/**
 * kiln.QLinearLookup in wasm (kernels/wasm/src/lookup-u8.c): a constant table is copied once into
 * persistent memory at prepare; a table fed at run time declines (runs js).
 */
const qlinearLookup: WasmKernel = (inputs, outputs, ctx) => {
  planLookup(inputs, ctx);
  const table = ctx.constants[1];
  if (!table) return undefined;
  const n = inputs[0]!.dims.reduce((a, d) => a * d, 1);
  const flip = lookupBase(inputs[0]!.dtype) === 0 ? 0 : 1;
  let f: WasmExport | undefined;
  return {
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [256],
    prepare(k, at) {
      f = k.fn('kiln_lookup_u8');
      new Uint8Array(k.memory.buffer, at.persistent[0]!, 256).set(new Uint8Array((table.data as Uint8Array | Int8Array).buffer, (table.data as Uint8Array).byteOffset, 256));
    },
    run(k, at) {
      f ??= k.fn('kiln_lookup_u8');
      f(at.inputs[0]!, at.persistent[0]!, at.outputs[0]!, n, flip);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
