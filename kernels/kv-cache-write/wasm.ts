import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { checkedOffset, inferKvCacheWrite } from './write-op.ts';
import { kvCacheAttention } from './attention-wasm.ts';

/**
 * float32 caches with a float32 offset (the arena holds float32; other cases run the js kernel): the
 * offset is read from the arena when the step runs, checked, then the cache is copied and the new
 * rows written over their slots, two calls of the row copier. Where the backend carries the cache
 * between runs, the present takes the past's bytes (writesOver) and only the new rows are written.
 */
const kvCacheWrite: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[0]?.dtype !== 'float32' || inputs[2]?.dtype !== 'float32') return undefined;
  const { shape } = inferKvCacheWrite(inputs, ctx);
  const { slabs, capacity, count, width } = shape;
  let copy: WasmExport | undefined;
  return {
    reads: [0, 1, 2],
    scratchBytes: 0,
    persistentBytes: [],
    writesOver: [0],
    prepare(k) {
      copy = k.fn('kiln_copy_rows_f32');
    },
    run(k, at) {
      copy ??= k.fn('kiln_copy_rows_f32');
      const offset = checkedOffset(new Float32Array(k.memory.buffer, at.inputs[2]!, 1)[0]!, shape, ctx);
      const out = at.outputs[0]!;
      if (slabs * capacity * width === 0) return;
      if (at.inputs[0] !== out) copy(at.inputs[0]!, capacity * width, out, capacity * width, slabs, capacity * width);
      if (count > 0) copy(at.inputs[1]!, count * width, out + offset * width * 4, capacity * width, slabs, count * width);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'KvCacheWrite')]: kvCacheWrite, [opKey('kiln', 'KvCacheAttention')]: kvCacheAttention };
