// A deliberately naive Conv/ConvTranspose (direct loops, float64) that the fast CPU path
// (im2col + blocked GEMM in kernels/conv.ts) is checked against; the GPU is checked against the CPU.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { Attributes, type AttributeValue } from '../../core/attributes.ts';
import { applyActivation, activationOf } from '../../kernels/common/activation.ts';
import { convGeometry } from '../../kernels/common/conv-attributes.ts';
import { kernels as convKernels } from '../../kernels/conv/legacy.ts';
import { kernels as convTransposeKernels } from '../../kernels/conv-transpose/legacy.ts';
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

function naive(c: RefCase, x: Float32Array, w: Float32Array, b: Float32Array | undefined, ctx: KernelContext): Float64Array {
  const { geo: g, out } = convGeometry([{ dtype: 'float32', dims: c.x }, { dtype: 'float32', dims: c.w }, b && { dtype: 'float32', dims: [b.length] }], ctx, c.transpose ?? false);
  const act = activationOf(ctx.attrs);
  const s = g.inDims.length;
  const size = (d: readonly number[]): number => d.reduce((p, v) => p * v, 1);
  const S = size(g.outDims);
  const inS = size(g.inDims);
  const T = size(g.kernel);
  const cout = g.coutG * g.group;
  const y = new Float64Array(size(out.dims));
  const o = new Array<number>(s);
  const k = new Array<number>(s);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / g.coutG);
      for (let sp = 0; sp < S; sp++) {
        for (let d = s - 1, r = sp; d >= 0; d--, r = Math.floor(r / g.outDims[d + 1]!)) o[d] = r % g.outDims[d]!;
        let acc = b ? b[co]! : 0;
        for (let ci = 0; ci < g.cinG; ci++) {
          for (let t = 0; t < T; t++) {
            for (let d = s - 1, r = t; d >= 0; d--, r = Math.floor(r / g.kernel[d + 1]!)) k[d] = r % g.kernel[d]!;
            let off = 0;
            let inside = true;
            for (let d = 0; d < s; d++) {
              let pos: number;
              if (g.transpose) {
                const q = o[d]! + g.padBegin[d]! - k[d]! * g.dilations[d]!;
                pos = q % g.strides[d]! === 0 ? q / g.strides[d]! : -1;
              } else pos = o[d]! * g.strides[d]! - g.padBegin[d]! + k[d]! * g.dilations[d]!;
              if (pos < 0 || pos >= g.inDims[d]!) inside = false;
              off = off * g.inDims[d]! + pos;
            }
            if (!inside) continue;
            const cg = grp * g.cinG + ci;
            const wv = g.transpose ? w[(cg * g.coutG + (co - grp * g.coutG)) * T + t]! : w[(co * g.cinG + ci) * T + t]!;
            acc += x[(n * g.group * g.cinG + cg) * inS + off]! * wv;
          }
        }
        y[(n * cout + co) * S + sp] = applyActivation(act, acc);
      }
    }
  }
  return y;
}

export function runReferenceCases(cases: readonly RefCase[]): void {
  describe('ops: conv CPU path vs naive loops', () => {
    for (const c of cases) {
      test(`conv-reference/${c.name}`, () => {
        const attrs = new Attributes(new Map(Object.entries(c.attrs ?? {})));
        const ctx: KernelContext = { attrs, opset: 17, node: c.name, host: [] };
        const x = rand(c.x.reduce((p, v) => p * v, 1));
        const w = rand(c.w.reduce((p, v) => p * v, 1));
        const cout = c.transpose ? c.w[1]! * attrs.int('group', 1) : c.w[0]!;
        const b = c.bias ? rand(cout) : undefined;
        const kernel = (c.transpose ? convTransposeKernels : convKernels)[0]!;
        const inputs = [new Tensor('float32', x, c.x), new Tensor('float32', w, c.w), b && new Tensor('float32', b, [cout])];
        const got = kernel.cpu(inputs, ctx)[0]!;
        const want = naive(c, x, w, b, ctx);
        assert.equal(got.size, want.length);
        const g = got.data as Float32Array;
        for (let i = 0; i < want.length; i++) {
          assert.ok(Math.abs(g[i]! - want[i]!) <= 1e-4 + 1e-4 * Math.abs(want[i]!), `element ${i}: ${g[i]}, expected ${want[i]}`);
        }
      });
    }
  });
}
