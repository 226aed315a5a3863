import { fail } from '../../core/errors.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel, WasmKernels } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { ARENA_DTYPE_BYTES } from '../wasm/typed.ts';
import { elementsLayout, gatherLayout, ndLayout } from './op.ts';

/** typed.h's BMAX */
const MAX_RANK = 8;

const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

/** Checks `count` indices at `indices` against [-n, n) before anything is written; the reference's error for the first outside. */
export function checkIndices(k: WasmKernels, node: string, indices: number, idx64: boolean, count: number, n: number): void {
  const at = k.fn('kiln_index_check')(indices, idx64 ? 1 : 0, count, n)!;
  if (at < 0) return;
  const v = idx64 ? new BigInt64Array(k.memory.buffer, indices, at + 1)[at]! : new Int32Array(k.memory.buffer, indices, at + 1)[at]!;
  fail('INVALID_ARGUMENT', `node '${node}': index ${v} is out of range for a dimension of size ${n}`);
}

/** Data of a dtype the arena holds, int32/int64 indices: the element size, or undefined. */
function sizes(data: TensorMeta | undefined, indices: TensorMeta | undefined): { bytes: number; idx64: boolean } | undefined {
  const bytes = data ? ARENA_DTYPE_BYTES[data.dtype] : undefined;
  if (bytes === undefined || bytes === 2 || (indices?.dtype !== 'int32' && indices?.dtype !== 'int64')) return undefined; // gather.c: 1, 4 or 8 bytes
  return { bytes, idx64: indices.dtype === 'int64' };
}

/** Gather along any axis: data [outer, n, inner] rows picked by every index; checked before anything is written. */
const gather: WasmKernel = (inputs, _outputs, ctx) => {
  const s = sizes(inputs[0], inputs[1]);
  if (!s) return undefined;
  const { out, axis } = gatherLayout(inputs, ctx);
  const data = inputs[0]!.dims;
  const [outer, n, inner, nIdx] = [count(data.slice(0, axis)), data[axis]!, count(data.slice(axis + 1)), count(inputs[1]!.dims)];
  return singleExportStep('kiln_gather', (at, k) => {
    const [x, idx] = [at.inputs[0]!, at.inputs[1]!];
    checkIndices(k, ctx.node, idx, s.idx64, nIdx, n);
    return [x, idx, s.idx64 ? 1 : 0, at.outputs[0]!, outer, n, nIdx, inner, s.bytes];
  }, { reads: [0, 1], empty: count(out.dims) === 0 });
};

/** GatherElements: each output element reads data at its own position with the axis coordinate replaced. */
const gatherElements: WasmKernel = (inputs, _outputs, ctx) => {
  const s = sizes(inputs[0], inputs[1]);
  if (!s) return undefined;
  const { out, axis } = elementsLayout(inputs, ctx);
  const data = inputs[0]!.dims;
  if (data.length > MAX_RANK) return undefined;
  const strides = data.map((_, d) => count(data.slice(d + 1)));
  const n = data[axis]!;
  const desc = Int32Array.from([data.length, axis, n, ...out.dims, ...strides]);
  const total = count(out.dims);
  return singleExportStep('kiln_gather_elements', (at, k) => {
    const idx = at.inputs[1]!;
    checkIndices(k, ctx.node, idx, s.idx64, total, n);
    return [at.inputs[0]!, idx, s.idx64 ? 1 : 0, at.outputs[0]!, s.bytes, at.persistent[0]!];
  }, { reads: [0, 1], persistent: desc, empty: total === 0 });
};

/**
 * GatherND (any batch_dims): each index tuple picks a slice of data, one bulk copy; every index is
 * checked before anything is written (kiln_gather_nd returns the first bad one's position).
 */
const gatherND: WasmKernel = (inputs, _outputs, ctx) => {
  const s = sizes(inputs[0], inputs[1]);
  if (!s) return undefined;
  const L = ndLayout(inputs, ctx);
  const data = inputs[0]!.dims;
  const axes = data.slice(L.first, L.first + L.k);
  const strides = axes.map((_, j) => count(data.slice(L.first + j + 1)) * s.bytes);
  const desc = Int32Array.from([L.batch, L.tuples, L.k, L.slice * s.bytes, count(data.slice(L.first)) * s.bytes, ...axes, ...strides]);
  let f: WasmExport | undefined;
  // not a singleExportStep: the export's answer (the first bad index) is checked after the call
  return {
    reads: [0, 1],
    scratchBytes: 0,
    persistentBytes: [desc.byteLength],
    prepare(k, at) {
      f = k.fn('kiln_gather_nd');
      new Int32Array(k.memory.buffer, at.persistent[0]!, desc.length).set(desc);
    },
    run(k, at) {
      f ??= k.fn('kiln_gather_nd');
      const idx = at.inputs[1]!;
      const bad = f(at.inputs[0]!, idx, s.idx64 ? 1 : 0, at.outputs[0]!, at.persistent[0]!)!;
      if (bad >= 0) {
        const v = s.idx64 ? new BigInt64Array(k.memory.buffer, idx, bad + 1)[bad]! : new Int32Array(k.memory.buffer, idx, bad + 1)[bad]!;
        fail('INVALID_ARGUMENT', `node '${ctx.node}': index ${v} is out of range for a dimension of size ${axes[bad % L.k]!}`);
      }
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'Gather')]: gather,
  [opKey('', 'GatherElements')]: gatherElements,
  [opKey('', 'GatherND')]: gatherND,
};
