// When QLinearConv may run on WebGPU as the float Conv's program (kernels/qlinear-conv/float-exact.ts):
// only while max |x - xz| * max over channels of sum |w - wz| + max |bias| < 2^24, the largest
// integer range f32 holds exactly. The edges are worked out here by hand, not by the function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { exactInFloat32 } from '../../kernels/qlinear-conv/float-exact.ts';
import { B, W, WZ, X, XZ } from '../../kernels/qlinear-conv/op.ts';
import type { MaybeMeta, MaybeTensor } from '../../kernels/contract.ts';

/** 2^24 / 255 = 65793.0039: a uint8 x with zero point 0 times sum |w| = 65793 is 16,777,215, one below 2^24 */
const EDGE_SUM = 65793;

/** int8 weights [2, n, 1, 1]: channel 0 sums |w| to `sum` (127s and one remainder), channel 1 is small */
function weights(sum: number): Tensor<'int8'> {
  const n = Math.ceil(sum / 127);
  const data = new Int8Array(2 * n);
  for (let k = 0; k < n; k++) data[k] = Math.min(127, sum - 127 * k);
  data[n] = 3;
  return new Tensor('int8', data, [2, n, 1, 1]);
}

function slots(w: AnyTensor, extra: { xz?: AnyTensor; wz?: AnyTensor; bias?: AnyTensor; fed?: number[] } = {}): { inputs: MaybeMeta[]; constants: MaybeTensor[] } {
  const constants: MaybeTensor[] = [];
  constants[W] = w;
  if (extra.xz) constants[XZ] = extra.xz;
  if (extra.wz) constants[WZ] = extra.wz;
  if (extra.bias) constants[B] = extra.bias;
  const inputs: MaybeMeta[] = [];
  inputs[X] = { dtype: 'uint8', dims: [1, w.dims[1]!, 1, 1] };
  for (let s = 1; s < 9; s++) {
    const c = constants[s];
    inputs[s] = c ? { dtype: c.type, dims: c.dims } : extra.fed?.includes(s) ? { dtype: 'uint8', dims: [] } : undefined;
  }
  for (const s of extra.fed ?? []) constants[s] = undefined;
  return { inputs, constants };
}

const u8 = (v: number): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.of(v), []);
const i8s = (vs: number[]): Tensor<'int8'> => new Tensor('int8', Int8Array.from(vs), [vs.length]);

test('the float program is allowed up to one below 2^24 and refused from 2^24 on', () => {
  const below = slots(weights(EDGE_SUM));
  assert.deepEqual(exactInFloat32(below.inputs, below.constants, 'uint8', 2, false), { x: 0, w: 0 });
  const at = slots(weights(EDGE_SUM + 1));
  assert.equal(exactInFloat32(at.inputs, at.constants, 'uint8', 2, false), undefined);
});

test('the bias counts: one more unit of |bias| at the edge refuses', () => {
  const sum = EDGE_SUM - 1; // 255 * 65792 = 16,776,960: 255 units of room
  const ok = slots(weights(sum), { bias: new Tensor('int32', Int32Array.of(-255, 7), [2]) });
  assert.notEqual(exactInFloat32(ok.inputs, ok.constants, 'uint8', 2, false), undefined);
  const over = slots(weights(sum), { bias: new Tensor('int32', Int32Array.of(-256, 7), [2]) });
  assert.equal(exactInFloat32(over.inputs, over.constants, 'uint8', 2, false), undefined);
});

test("x's zero point narrows |x - xz|: uint8 with zero point 128 reaches at most 128", () => {
  // 128 * 131071 = 16,777,088 < 2^24; 128 * 131072 = 2^24
  const ok = slots(weights(131071), { xz: u8(128) });
  assert.deepEqual(exactInFloat32(ok.inputs, ok.constants, 'uint8', 2, false), { x: 128, w: 0 });
  const over = slots(weights(131072), { xz: u8(128) });
  assert.equal(exactInFloat32(over.inputs, over.constants, 'uint8', 2, false), undefined);
});

test("w's zero point enters every |w - wz|, and per-channel zero points must agree", () => {
  const same = slots(weights(1000), { wz: i8s([-2, -2]) });
  assert.deepEqual(exactInFloat32(same.inputs, same.constants, 'uint8', 2, true), { x: 0, w: -2 });
  const differ = slots(weights(1000), { wz: i8s([-2, 1]) });
  assert.equal(exactInFloat32(differ.inputs, differ.constants, 'uint8', 2, true), undefined);
  // 515 127s and an 88 (65,493) shifted by a zero point of -1: 515 * 128 + 89 = 66,009, past the edge
  const unshifted = slots(weights(EDGE_SUM - 300));
  assert.notEqual(exactInFloat32(unshifted.inputs, unshifted.constants, 'uint8', 2, false), undefined);
  const shifted = slots(weights(EDGE_SUM - 300), { wz: i8s([-1]) });
  assert.equal(exactInFloat32(shifted.inputs, shifted.constants, 'uint8', 2, false), undefined);
});

test('a zero point or bias fed at run time is unknown at plan time: refused', () => {
  for (const fed of [[XZ], [WZ], [B]]) {
    const s = slots(weights(100), { fed });
    assert.equal(exactInFloat32(s.inputs, s.constants, 'uint8', 2, false), undefined, `fed slot ${fed[0]}`);
  }
  const noW = slots(weights(100));
  noW.constants[W] = undefined;
  assert.equal(exactInFloat32(noW.inputs, noW.constants, 'uint8', 2, false), undefined);
});
