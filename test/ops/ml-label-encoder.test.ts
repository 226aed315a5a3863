// LabelEncoder (ai.onnx.ml 2 to 4) against onnxruntime-web: string, int64 and float keys and values,
// defaults given or not, and opset 4's tensor attributes. Every output must be equal (a lookup
// computes nothing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import type { WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { KilnError } from '../../runtime/node.ts';
import { assertMatchesOrt, f32, loadKiln, mlModelBytes, type MlModel } from '../helpers/ml-ort.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const EXACT = { rtol: 0, atol: 0 };
type Kind = 'string' | 'int64' | 'float';

function keysOf(rng: Rng, kind: Kind, n: number): (string | number)[] {
  const seen = new Set<string | number>();
  while (seen.size < n) seen.add(kind === 'string' ? `k${rng.int(3 * n)}` : kind === 'int64' ? rng.intRange(-3 * n, 3 * n) : Math.fround(rng.intRange(-3 * n, 3 * n) / 4));
  return [...seen];
}

function tensorOf(kind: Kind, dims: number[], values: readonly (string | number)[]): AnyTensor {
  if (kind === 'string') return new Tensor('string', values as string[], dims);
  if (kind === 'int64') return new Tensor('int64', BigInt64Array.from(values as number[], (v) => BigInt(v)), dims);
  return f32(dims, values as number[]);
}

const attrList = (kind: Kind, v: readonly (string | number)[]): WriterAttribute => (kind === 'float' ? { floats: v as number[] } : (v as number[] | string[]));
const suffix: Record<Kind, string> = { string: 'strings', int64: 'int64s', float: 'floats' };
const dtypeOf: Record<Kind, DataType> = { string: 'string', int64: 'int64', float: 'float32' };

test('LabelEncoder (ml opsets 2 to 4): every key / value type pair, with and without a default, NaN float keys', async () => {
  const rng = testRng(import.meta.url, 'named lists');
  const kinds: Kind[] = ['string', 'int64', 'float'];
  let first = true;
  for (const opset of [2, 3, 4]) {
    for (const from of kinds) {
      for (const to of kinds) {
        const withDefault = rng.uniform() < 0.5;
        const n = rng.intRange(1, 6);
        const keys = keysOf(rng, from, n);
        // a NaN key: onnxruntime matches it to a NaN input from opset 4 on, never before
        if (from === 'float' && rng.uniform() < 0.7) keys[rng.int(n)] = NaN;
        const values = keysOf(rng, to, n);
        const x = Array.from({ length: 7 }, () => (rng.uniform() < 0.6 ? rng.pick(keys) : from === 'float' && rng.uniform() < 0.3 ? NaN : keysOf(rng, from, 1)[0]!));
        const defaults: Record<Kind, [string, WriterAttribute]> = { string: ['default_string', 'none'], int64: ['default_int64', 99], float: ['default_float', { float: 2.5 }] };
        const m: MlModel = {
          op: 'LabelEncoder', mlOpset: opset,
          attrs: {
            [`keys_${suffix[from]}`]: attrList(from, keys), [`values_${suffix[to]}`]: attrList(to, values),
            ...(withDefault ? { [defaults[to][0]]: defaults[to][1] } : {}),
          },
          feeds: { X: tensorOf(from, [7], x) }, inputs: ['X'], outputs: [{ name: 'Y', dtype: dtypeOf[to] }],
        };
        await assertMatchesOrt(m, `LabelEncoder opset ${opset} ${from} -> ${to}${withDefault ? ' with default' : ''} (seed ${rng.seed})`, EXACT, first ? ['js', 'wasm'] : ['js']);
        first = false;
      }
    }
  }
});

test('LabelEncoder (ml opset 4): keys_tensor / values_tensor / default_tensor, int64 -> int64 and string -> int16', async () => {
  const rng = testRng(import.meta.url, 'opset 4');
  const keys = keysOf(rng, 'int64', 4) as number[];
  const m: MlModel = {
    op: 'LabelEncoder', mlOpset: 4,
    attrs: {
      keys_tensor: new Tensor('int64', BigInt64Array.from(keys, (v) => BigInt(v)), [4]),
      values_tensor: new Tensor('int64', BigInt64Array.of(7n, 8n, 9n, 10n), [4]),
      default_tensor: new Tensor('int64', BigInt64Array.of(-5n), [1]),
    },
    feeds: { X: new Tensor('int64', BigInt64Array.from({ length: 6 }, () => BigInt(rng.uniform() < 0.6 ? rng.pick(keys) : 1000)), [2, 3]) },
    inputs: ['X'], outputs: [{ name: 'Y', dtype: 'int64' }],
  };
  await assertMatchesOrt(m, `LabelEncoder int64 tensors (seed ${rng.seed})`, EXACT);
  const m2: MlModel = {
    op: 'LabelEncoder', mlOpset: 4,
    attrs: { keys_strings: ['x', 'y'], values_tensor: new Tensor('int16', Int16Array.of(3, -4), [2]) },
    feeds: { X: new Tensor('string', ['y', 'q', 'x', 'x'], [4]) }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'int16' }],
  };
  const want = await assertMatchesOrt(m2, 'LabelEncoder string -> int16, no default', EXACT);
  assert.deepEqual(Array.from(want.Y!.data as Int16Array), [-4, -1, 3, 3]); // the int default is -1
});

test('malformed LabelEncoders are refused with a typed error', async () => {
  const x = new Tensor('string', ['a'], [1]);
  const run = (attrs: MlModel['attrs'], mlOpset = 2): Promise<unknown> => loadKiln(mlModelBytes({ op: 'LabelEncoder', mlOpset, attrs, feeds: { X: x }, inputs: ['X'], outputs: [{ name: 'Y', dtype: 'int64' }] }));
  const typed = (code: string, pattern: RegExp) => (e: unknown): boolean => e instanceof KilnError && e.code === code && pattern.test(e.message);
  await assert.rejects(run({ keys_strings: ['a', 'b'], values_int64s: [1] }), typed('INVALID_MODEL', /2 keys and 1 values/));
  await assert.rejects(run({ keys_strings: ['a'], keys_int64s: [1], values_int64s: [1] }), typed('INVALID_MODEL', /exactly one of keys_strings/));
  await assert.rejects(run({ keys_int64s: [1], values_int64s: [1] }), typed('INVALID_GRAPH', /int64/));
  await assert.rejects(run({ classes_strings: ['a'] }, 1), typed('UNSUPPORTED_FEATURE', /opset 1/));
});
