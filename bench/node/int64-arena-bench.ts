// `node --import tsx bench/node/int64-arena-bench.ts`: what keeping int64 tensors as 8 bytes in the wasm
// arena costs against narrowing them to int32 (with the range check that would need). Copy in: a
// BigInt64Array.set into memory (a memcpy) vs a loop that checks and narrows each value; the kernel:
// Gather of rows by int64 vs int32 indices (kernels/wasm/src/gather.c reads either). Medians of 9
// interleaved ~30 ms samples, microseconds per call.
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { msPerCall } from './time-per-call.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const memory = new WebAssembly.Memory({ initial: 256 });
const rows: string[] = [];
for (const n of [128, 65536, 1 << 20]) {
  const src = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 30000));
  const as64 = (): void => new BigInt64Array(memory.buffer, 0, n).set(src);
  const as32 = (): void => {
    const dst = new Int32Array(memory.buffer, 8 * n, n);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v < -2147483648n || v > 2147483647n) throw new RangeError('index beyond int32');
      dst[i] = Number(v);
    }
  };
  const t64: number[] = [];
  const t32: number[] = [];
  for (let s = 0; s < 9; s++) {
    t64.push(await msPerCall(async () => as64(), 30));
    t32.push(await msPerCall(async () => as32(), 30));
  }
  rows.push(`| copy in ${n} int64 | ${(median(t64) * 1000).toFixed(1)} | ${(median(t32) * 1000).toFixed(1)} |`);
}
for (const [count, width] of [[128, 256], [4096, 4]] as const) {
  const t: Record<string, number[]> = { int64: [], int32: [] };
  const sessions = await Promise.all((['int64', 'int32'] as const).map(async (dtype) => {
    const bytes = encodeOnnxModel({
      nodes: [{ opType: 'Gather', inputs: ['table', 'ids'], outputs: ['y'] }],
      inputs: [{ name: 'ids', dtype, dims: [count] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { table: new Tensor('float32', new Float32Array(8000 * width).fill(1), [8000, width]) },
    });
    const ids = Array.from({ length: count }, (_, i) => (i * 7919) % 8000);
    const feed = dtype === 'int64' ? new Tensor('int64', BigInt64Array.from(ids, BigInt), [count]) : new Tensor('int32', Int32Array.from(ids), [count]);
    return { dtype, s: await InferenceSession.create(bytes, { executionProviders: ['wasm'] }), feed };
  }));
  for (let s = 0; s < 9; s++) for (const x of sessions) t[x.dtype]!.push(await msPerCall(() => x.s.run({ ids: x.feed }), 30));
  rows.push(`| Gather ${count} rows of ${width} floats, session.run | ${(median(t.int64!) * 1000).toFixed(1)} | ${(median(t.int32!) * 1000).toFixed(1)} |`);
  for (const x of sessions) await x.s.release();
}
console.log('| what | int64 (8 bytes) us | int32 (narrowed) us |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
