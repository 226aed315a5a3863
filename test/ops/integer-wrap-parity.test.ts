// Integer Add/Sub/Mul/Div where a double is not exact: int64 values beyond 2^53 and products that
// wrap, int32 products above 2^53. onnxruntime-web computes them in two's complement; the reference,
// the js path and the wasm kernels must give its bytes. (WebGPU stores int64 as i32 and refuses such
// values at upload with a typed error, so it is not in this comparison.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { Attributes } from '../../core/attributes.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import type { Rng } from '../helpers/rng-core.ts';

ort.env.wasm.numThreads = 1;

const N = 67; // odd: scalar tails after every vector loop

/** Random 64-bit integers over the whole range: two 32-bit halves. */
function int64s(rng: Rng, n: number): BigInt64Array {
  return BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, (BigInt(rng.intRange(0, 2 ** 32)) << 32n) | BigInt(rng.intRange(0, 2 ** 32))));
}

/** Random 64-bit integers with no zero (a divisor). */
function nonZero(v: BigInt64Array): BigInt64Array {
  return v.map((x) => (x === 0n ? 1n : x));
}

function int32s(rng: Rng, n: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.intRange(-(2 ** 31), 2 ** 31));
}

function tensorOf(data: BigInt64Array | Int32Array): AnyTensor {
  return data instanceof BigInt64Array ? new Tensor('int64', data, [data.length]) : new Tensor('int32', data, [data.length]);
}

async function checkOp(op: string, dtype: 'int32' | 'int64', a: BigInt64Array | Int32Array, b: BigInt64Array | Int32Array, seed: number): Promise<void> {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: op, inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype, dims: [N] }, { name: 'b', dtype, dims: [N] }],
    outputs: [{ name: 'y', dtype }],
    opsets: { '': 14 },
  });
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = Array.from((await theirs.run({ a: new ort.Tensor(dtype, a, [N]), b: new ort.Tensor(dtype, b, [N]) })).y!.data as BigInt64Array | Int32Array, String);
  await theirs.release();

  const ta = tensorOf(a);
  const tb = tensorOf(b);
  const reference = resolveDefinition('', op)!.reference([ta, tb], { attrs: Attributes.empty(), opset: 14, node: op, host: [] });
  assert.deepEqual(Array.from(reference[0]!.data as BigInt64Array | Int32Array, String), want, `${op} ${dtype} reference vs onnxruntime-web (seed ${seed})`);
  for (const provider of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = (await s.run({ a: ta, b: tb })).y!;
      assert.deepEqual(Array.from(got.data as BigInt64Array | Int32Array, String), want, `${op} ${dtype} on ${provider} vs onnxruntime-web (seed ${seed})`);
    } finally {
      await s.release();
    }
  }
}

for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
  test(`${op} int64 over the whole 64-bit range equals onnxruntime-web (wrapping, no float64 rounding)`, async () => {
    const rng = testRng(import.meta.url, op, 'int64');
    const a = int64s(rng, N);
    const b = nonZero(int64s(rng, N));
    b[0] = 3n; // b is never 0: onnxruntime traps on integer division by zero
    a[1] = 2n ** 53n + 1n; // the first integer a double cannot hold
    b[1] = 1n;
    a[2] = -(2n ** 63n);
    b[2] = op === 'Div' ? 7n : -1n;
    await checkOp(op, 'int64', a, b, rng.seed);
  });
}

test('Mul int32 over the whole range equals onnxruntime-web (low 32 bits of products up to 2^62)', async () => {
  const rng = testRng(import.meta.url, 'Mul', 'int32');
  await checkOp('Mul', 'int32', int32s(rng, N), int32s(rng, N), rng.seed);
});
