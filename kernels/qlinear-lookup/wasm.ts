import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { wasmKernelFor } from '../wasm/kernels.ts';
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
  const rebuild = tableFromWasmActivation(inputs, ctx);
  if (rebuild === null) return undefined;
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
      if (rebuild) {
        // the activation's own wasm kernel over the 256 dequantized inputs, in place
        new Float32Array(k.memory.buffer, at.persistent[0]!, 256).set(rebuild.dq);
        k.fn('kiln_unary_f32')(rebuild.code, at.persistent[0]!, at.persistent[0]!, 256, rebuild.params[0], rebuild.params[1]);
      }
    },
    run(k, at) {
      f ??= k.fn(name);
      f(at.inputs[0]!, at.persistent[0]!, at.outputs[0]!, n, flip);
    },
  };
};

/**
 * For a float32 table with the dequantized inputs beside it: the folded activation's wasm unary
 * step (its code and parameters), so prepare rebuilds the table with the kernel the separate op
 * would run. undefined: keep the table; null: the activation has no wasm kernel here (decline).
 * `dqSlot`: where the node keeps the dequantized inputs (kernels/qlinear-excite reuses this).
 */
export function tableFromWasmActivation(inputs: Parameters<WasmKernel>[0], ctx: Parameters<WasmKernel>[2], dqSlot = 2): { dq: Float32Array; code: number; params: readonly [number, number] } | undefined | null {
  const dq = ctx.constants[dqSlot];
  const folded = ctx.attrs.has('kiln_folded') ? ctx.attrs.string('kiln_folded', '') : '';
  if (!inputs[dqSlot]) return undefined;
  const lower = folded ? wasmKernelFor({ domain: '', opType: folded }) : undefined;
  if (!dq || dq.type !== 'float32' || !lower) return null;
  const meta = { dtype: 'float32' as const, dims: [256] };
  const step = lower([meta], [meta], { ...ctx, constants: [] });
  if (step?.elementwise?.kind !== 'unary') return null;
  return { dq: dq.data as Float32Array, code: step.elementwise.code, params: step.elementwise.params };
}

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
