// Conv/ConvTranspose's js fast path (im2col + blocked GEMM, col2im, the depthwise tap loop in
// kernels/conv/js.ts) checked directly against the plain reference (direct loops, float64) in
// kernels/conv/op.ts, on shapes the op cases do not reach; the GPU is checked against the reference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { Attributes, type AttributeValue } from '../../core/attributes.ts';
import { convDefinition } from '../../kernels/conv/op.ts';
import { convCpu } from '../../kernels/conv/js.ts';
import type { KernelContext } from '../../kernels/contract.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

export interface RefCase {
  readonly name: string;
  readonly transpose?: boolean;
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias?: boolean;
  readonly attrs?: Readonly<Record<string, AttributeValue>>;
}

const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 4 - 2);

export function runReferenceCases(cases: readonly RefCase[]): void {
  describe('ops: conv CPU path vs naive loops', () => {
    for (const c of cases) {
      test(`conv-reference/${c.name}`, () => {
        const attrs = new Attributes(new Map(Object.entries(c.attrs ?? {})));
        const ctx: KernelContext = { attrs, opset: 17, node: c.name, host: [] };
        const transpose = c.transpose ?? false;
        const x = rand(c.x.reduce((p, v) => p * v, 1));
        const w = rand(c.w.reduce((p, v) => p * v, 1));
        const cout = transpose ? c.w[1]! * attrs.int('group', 1) : c.w[0]!;
        const b = c.bias ? rand(cout) : undefined;
        const inputs = [new Tensor('float32', x, c.x), new Tensor('float32', w, c.w), b && new Tensor('float32', b, [cout])];
        const got = convCpu(inputs, ctx, transpose)[0]!;
        const want = convDefinition(transpose).reference(inputs, ctx)[0]!;
        assert.deepEqual(got.dims, want.dims);
        assert.equal(got.size, want.size);
        const g = got.data as Float32Array;
        const r = want.data as Float32Array;
        for (let i = 0; i < r.length; i++) {
          assert.ok(Math.abs(g[i]! - r[i]!) <= 1e-4 + 1e-4 * Math.abs(r[i]!), `element ${i}: ${g[i]}, expected ${r[i]}`);
        }
      });
    }
  });
}
