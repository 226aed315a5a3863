import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { wordsPerElement } from '../wasm/strided-copy.ts';
import { inferConcat } from './op.ts';

/** Concat (float32, int32, int64): each input's rows (everything from the axis inward) copied into its column band of the output. */
const concat: WasmKernel = (inputs, _outputs, ctx) => {
  const words = inputs[0] ? wordsPerElement(inputs[0].dtype) : undefined;
  if (words === undefined || inputs.some((m) => m && m.dtype !== inputs[0]!.dtype)) return undefined;
  const { out, axis } = inferConcat(inputs, ctx);
  const outer = product(out.dims, 0, axis);
  const inner = product(out.dims, axis + 1) * words; // in 4-byte words from here on
  const rowOut = out.dims[axis]! * inner;
  const parts: { slot: number; start: number; row: number }[] = [];
  let start = 0;
  inputs.forEach((m, slot) => {
    if (!m) return;
    const row = m.dims[axis]! * inner;
    if (row > 0) parts.push({ slot, start, row });
    start += row;
  });
  let f: WasmExport | undefined;
  return {
    reads: parts.map((p) => p.slot),
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn('kiln_copy_rows_f32');
    },
    run(k, at) {
      f ??= k.fn('kiln_copy_rows_f32');
      if (outer === 0) return;
      for (const p of parts) f(at.inputs[p.slot]!, p.row, at.outputs[0]! + p.start * 4, rowOut, outer, p.row);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Concat')]: concat };
