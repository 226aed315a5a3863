import { fail } from '../../core/errors.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel, WasmKernels } from '../wasm/contract.ts';
import { ARENA_DTYPE_BYTES } from '../wasm/typed.ts';
import { elementsLayout, gatherLayout } from './op.ts';

/** typed.h's BMAX */
const MAX_RANK = 8;

const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

/** The reference's error for the index at position `at` (kiln_index_check found it outside [-n, n)). */
function outOfRange(k: WasmKernels, node: string, indices: number, idx64: boolean, at: number, n: number): never {
  const v = idx64 ? new BigInt64Array(k.memory.buffer, indices, at + 1)[at]! : new Int32Array(k.memory.buffer, indices, at + 1)[at]!;
  return fail('INVALID_ARGUMENT', `node '${node}': index ${v} is out of range for a dimension of size ${n}`);
}

/** Data of a dtype the arena holds, int32/int64 indices: the element size, or undefined. */
function sizes(data: TensorMeta | undefined, indices: TensorMeta | undefined): { bytes: number; idx64: boolean } | undefined {
  const bytes = data ? ARENA_DTYPE_BYTES[data.dtype] : undefined;
  if (bytes === undefined || (indices?.dtype !== 'int32' && indices?.dtype !== 'int64')) return undefined;
  return { bytes, idx64: indices.dtype === 'int64' };
}

/** Gather along any axis: data [outer, n, inner] rows picked by every index; checked before anything is written. */
const gather: WasmKernel = (inputs, _outputs, ctx) => {
  const s = sizes(inputs[0], inputs[1]);
  if (!s) return undefined;
  const { out, axis } = gatherLayout(inputs, ctx);
  const data = inputs[0]!.dims;
  const [outer, n, inner, nIdx] = [count(data.slice(0, axis)), data[axis]!, count(data.slice(axis + 1)), count(inputs[1]!.dims)];
  const empty = count(out.dims) === 0;
  let check: WasmExport | undefined;
  let f: WasmExport | undefined;
  return {
    reads: [0, 1],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      check = k.fn('kiln_index_check');
      f = k.fn('kiln_gather');
    },
    run(k, at) {
      check ??= k.fn('kiln_index_check');
      f ??= k.fn('kiln_gather');
      const [x, idx] = [at.inputs[0]!, at.inputs[1]!];
      const bad = check(idx, s.idx64 ? 1 : 0, nIdx, n)!;
      if (bad >= 0) outOfRange(k, ctx.node, idx, s.idx64, bad, n);
      if (!empty) f(x, idx, s.idx64 ? 1 : 0, at.outputs[0]!, outer, n, nIdx, inner, s.bytes);
    },
  };
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
  let check: WasmExport | undefined;
  let f: WasmExport | undefined;
  return {
    reads: [0, 1],
    scratchBytes: 0,
    persistentBytes: [desc.byteLength],
    prepare(k, at) {
      check = k.fn('kiln_index_check');
      f = k.fn('kiln_gather_elements');
      new Int32Array(k.memory.buffer, at.persistent[0]!, desc.length).set(desc);
    },
    run(k, at) {
      check ??= k.fn('kiln_index_check');
      f ??= k.fn('kiln_gather_elements');
      const idx = at.inputs[1]!;
      const bad = check(idx, s.idx64 ? 1 : 0, total, n)!;
      if (bad >= 0) outOfRange(k, ctx.node, idx, s.idx64, bad, n);
      if (total > 0) f(at.inputs[0]!, idx, s.idx64 ? 1 : 0, at.outputs[0]!, s.bytes, at.persistent[0]!);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'Gather')]: gather,
  [opKey('', 'GatherElements')]: gatherElements,
};
