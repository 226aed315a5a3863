// A BERT-like encoder block written with the ONNX writer (LayerNormalization, MatMul + Add,
// Reshape/Transpose heads, Softmax attention, Erf GELU, residuals), shared by the wasm benches;
// `f32` makes the seeded weights, so each bench keeps its own random stream.
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';

export function bertBlock(S: number, H: number, heads: number, f32: (dims: number[], scale?: number) => Tensor<'float32'>): { name: string; bytes: Uint8Array } {
  const D = H / heads;
  const F = 4 * H;
  const w = (r: number, c: number): Tensor<'float32'> => f32([r, c], 1 / Math.sqrt(r));
  const nodes: WriterNode[] = [];
  const n = (opType: string, inputs: string[], outputs: string[], attrs?: WriterNode['attrs']): void => {
    nodes.push({ opType, inputs, outputs, ...(attrs ? { attrs } : {}) });
  };
  n('LayerNormalization', ['x', 'ln1_s', 'ln1_b'], ['ln1'], { axis: -1, epsilon: 1e-12 });
  for (const p of ['q', 'k', 'v']) {
    n('MatMul', ['ln1', `w${p}`], [`${p}0`]);
    n('Add', [`${p}0`, `b${p}`], [`${p}1`]);
    n('Reshape', [`${p}1`, 'heads_shape'], [`${p}2`]);
  }
  n('Transpose', ['q2'], ['qh'], { perm: [0, 2, 1, 3] });
  n('Transpose', ['k2'], ['kt'], { perm: [0, 2, 3, 1] });
  n('Transpose', ['v2'], ['vh'], { perm: [0, 2, 1, 3] });
  n('MatMul', ['qh', 'kt'], ['s0']);
  n('Mul', ['s0', 'scale'], ['s1']);
  n('Softmax', ['s1'], ['p'], { axis: -1 });
  n('MatMul', ['p', 'vh'], ['c0']);
  n('Transpose', ['c0'], ['c1'], { perm: [0, 2, 1, 3] });
  n('Reshape', ['c1', 'hidden_shape'], ['c2']);
  n('MatMul', ['c2', 'wo'], ['o0']);
  n('Add', ['o0', 'bo'], ['o1']);
  n('Add', ['o1', 'x'], ['r1']);
  n('LayerNormalization', ['r1', 'ln2_s', 'ln2_b'], ['ln2'], { axis: -1, epsilon: 1e-12 });
  n('MatMul', ['ln2', 'wf1'], ['f0']);
  n('Add', ['f0', 'bf1'], ['f1']);
  // GELU as exported BERTs write it: 0.5 x (1 + erf(x / sqrt 2))
  n('Div', ['f1', 'sqrt2'], ['g0']);
  n('Erf', ['g0'], ['g1']);
  n('Add', ['g1', 'one'], ['g2']);
  n('Mul', ['f1', 'g2'], ['g3']);
  n('Mul', ['g3', 'half'], ['g4']);
  n('MatMul', ['g4', 'wf2'], ['f2']);
  n('Add', ['f2', 'bf2'], ['f3']);
  n('Add', ['f3', 'r1'], ['y']);
  const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', new Float32Array([v]), []);
  const bytes = encodeOnnxModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, S, H] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, S, H] }],
    initializers: {
      ln1_s: f32([H]), ln1_b: f32([H]), ln2_s: f32([H]), ln2_b: f32([H]),
      wq: w(H, H), bq: f32([H]), wk: w(H, H), bk: f32([H]), wv: w(H, H), bv: f32([H]), wo: w(H, H), bo: f32([H]),
      wf1: w(H, F), bf1: f32([F]), wf2: w(F, H), bf2: f32([H]),
      heads_shape: new Tensor('int64', BigInt64Array.from([1n, BigInt(S), BigInt(heads), BigInt(D)]), [4]),
      hidden_shape: new Tensor('int64', BigInt64Array.from([1n, BigInt(S), BigInt(H)]), [3]),
      scale: scalar(1 / Math.sqrt(D)), sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5),
    },
  });
  return { name: `BERT-like block f32 (S=${S}, H=${H}, ${heads} heads)`, bytes };
}
