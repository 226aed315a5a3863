import { normalizeAxis, product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { rowCopyOf } from '../wasm/strided-copy.ts';

/** Split (float32, int32, int64, 1-byte types): each output's band of every input row copied out (Concat's copy the other way). */
const split: WasmKernel = (inputs, outputs, ctx) => {
  const x = inputs[0];
  const rows = x ? rowCopyOf(x.dtype) : undefined;
  if (!x || rows === undefined) return undefined;
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), x.dims.length, ctx);
  const outer = product(x.dims, 0, axis);
  const inner = product(x.dims, axis + 1) * rows.perElement; // in copy units (words or bytes) from here on
  const rowIn = x.dims[axis]! * inner;
  let start = 0;
  const parts = outputs.map((m) => {
    const row = m.dims[axis]! * inner;
    const part = { start, row };
    start += row;
    return part;
  });
  let f: WasmExport | undefined;
  return {
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn(rows.kernel);
    },
    run(k, at) {
      f ??= k.fn(rows.kernel);
      if (outer === 0) return;
      parts.forEach((p, j) => {
        if (p.row > 0) f!(at.inputs[0]! + p.start * rows.unitBytes, rowIn, at.outputs[j]!, p.row, outer, p.row);
      });
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Split')]: split };
