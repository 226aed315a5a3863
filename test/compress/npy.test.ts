// trainer-node/common/npy.ts against files numpy 2.4 wrote (test/compress/fixtures, made with
// np.save / np.lib.format.write_array; the values are in the comments below).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { readNpy, writeNpy } from '../../trainer-node/common/npy.ts';
import { repoRoot } from '../helpers/paths.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(repoRoot, 'test/compress/fixtures', name)));

test('reads what numpy wrote: float32, int64, uint8, float64 scalar, format 2.0', () => {
  const f = readNpy(fixture('f32_2x3.npy')); // [[1.5, -2.25, 3.0], [0.125, -0.0, 1e-3]]
  assert.equal(f.type, 'float32');
  assert.deepEqual(f.dims, [2, 3]);
  assert.deepEqual(Array.from(f.data as Float32Array), [1.5, -2.25, 3, 0.125, -0, Math.fround(1e-3)]);
  const i = readNpy(fixture('i64_4.npy')); // [1, -2, 3 * 2**40, -7]
  assert.equal(i.type, 'int64');
  assert.deepEqual(Array.from(i.data as BigInt64Array), [1n, -2n, 3n * 2n ** 40n, -7n]);
  const u = readNpy(fixture('u8_2x2x2.npy')); // arange(8).reshape(2, 2, 2)
  assert.deepEqual([u.type, ...u.dims], ['uint8', 2, 2, 2]);
  assert.deepEqual(Array.from(u.data as Uint8Array), [0, 1, 2, 3, 4, 5, 6, 7]);
  const s = readNpy(fixture('f64_scalar.npy')); // 2.5
  assert.deepEqual([s.type, s.dims.length, (s.data as Float64Array)[0]], ['float64', 0, 2.5]);
  const v2 = readNpy(fixture('f32_v2.npy')); // arange(5), format version 2.0
  assert.deepEqual(Array.from(v2.data as Float32Array), [0, 1, 2, 3, 4]);
});

test('writes byte for byte what numpy writes', () => {
  for (const name of ['f32_2x3.npy', 'i64_4.npy', 'u8_2x2x2.npy']) {
    const bytes = fixture(name);
    assert.deepEqual(writeNpy(readNpy(bytes)), bytes, name);
  }
});

test('round trip of random tensors', () => {
  const data = Float32Array.from({ length: 24 }, () => rng.uniform() * 100 - 50);
  const back = readNpy(writeNpy(new Tensor('float32', data, [2, 3, 4])));
  assert.deepEqual(back.dims, [2, 3, 4]);
  assert.deepEqual(back.data, data);
  const ints = Int32Array.from({ length: 7 }, () => Math.floor(rng.uniform() * 2 ** 31));
  assert.deepEqual(readNpy(writeNpy(new Tensor('int32', ints, [7]))).data, ints);
});

test('clear errors for files it cannot read', () => {
  const cases: [Uint8Array, RegExp][] = [
    [fixture('f32_fortran.npy'), /Fortran-order/],
    [fixture('f32_bigendian.npy'), /big-endian/],
    [fixture('c64.npy'), /dtype '<c8' is not supported/],
    [fixture('f32_2x3.npy').slice(0, 140), /needs 24/],
    [fixture('f32_2x3.npy').slice(0, 40), /truncated header/],
    [new TextEncoder().encode('not a numpy file at all'), /not a \.npy file/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => readNpy(bytes, 'x.npy'), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && message.test(e.message) && e.message.includes('x.npy'));
  }
});
