import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { rowCopyOf } from '../wasm/strided-copy.ts';
import { inferConcat } from './op.ts';

/** Concat (float32, int32, int64, 1-byte types): each input's rows (everything from the axis inward) copied into its column band of the output. */
const concat: WasmKernel = (inputs, _outputs, ctx) => {
  const rows = inputs[0] ? rowCopyOf(inputs[0].dtype) : undefined;
  if (rows === undefined || inputs.some((m) => m && m.dtype !== inputs[0]!.dtype)) return undefined;
  const { out, axis } = inferConcat(inputs, ctx);
  const outer = product(out.dims, 0, axis);
  const inner = product(out.dims, axis + 1) * rows.perElement; // in copy units (words or bytes) from here on
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
      f = k.fn(rows.kernel);
    },
    run(k, at) {
      f ??= k.fn(rows.kernel);
      if (outer === 0) return;
      for (const p of parts) f(at.inputs[p.slot]!, p.row, at.outputs[0]! + p.start * rows.unitBytes, rowOut, outer, p.row);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Concat')]: concat };
