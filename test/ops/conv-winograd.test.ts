// 3x3 stride-1 float convs on wasm as Winograd F(2x2, 3x3) (kernels/conv/wasm-winograd.ts,
// kernels/wasm/src/conv-winograd.c) against the op's plain reference on fresh random inputs: odd
// heights and widths (a last tile row and column of one output), tile columns that are no multiple
// of 4, asymmetric and zero pads, batch 3, a 1x1 map, no bias, a fused Relu and Clip (the clamp);
// 1, 2 and 3 threads give the same bits and split. A fused HardSwish (the conv's own activation,
// not the clamp) and elementwise chains after the conv (SiLU as YOLO exports it, a Mul + Add) run on
// each unit's rows inside the kernel. The transform itself (G g G^T) is checked on its own against
// the formula written out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attributes, type AttributeValue } from '../../core/attributes.ts';
import { Tensor } from '../../core/tensor.ts';
import { lowerConvF32 } from '../../kernels/conv/wasm.ts';
import { winogradShape, winogradWeights } from '../../kernels/conv/wasm-winograd.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { testRng } from '../helpers/random.ts';
import { expectSameOnThreads } from '../helpers/same-on-threads.ts';

const rng = testRng(import.meta.url);
const size = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const tensor = (dims: number[], lo: number, hi: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(size(dims), lo, hi)), dims);

interface Case {
  readonly name: string;
  readonly x: number[];
  readonly cout: number;
  readonly pads: number[];
  readonly bias?: boolean;
  /** Relu, Clip: the kernel's clamp; HardSwish: the conv's own activation program; SiLU: x * Sigmoid(x) after it; MulAdd: y * s + t (per-channel constants) after it */
  readonly act?: 'Relu' | 'Clip' | 'HardSwish' | 'SiLU' | 'MulAdd';
  /** steps left after fusion (default 1: the conv alone) */
  readonly steps?: number;
  readonly split?: boolean;
}

const cases: Case[] = [
  { name: '64 -> 64 on 56x56 (the bench conv)', x: [1, 64, 56, 56], cout: 64, pads: [1, 1, 1, 1], split: true },
  { name: '16 -> 24, batch 2, 13x11, Relu', x: [2, 16, 13, 11], cout: 24, pads: [1, 1, 1, 1], act: 'Relu' },
  { name: '17 -> 19, 7x9, no pads', x: [1, 17, 7, 9], cout: 19, pads: [0, 0, 0, 0] },
  { name: '32 -> 16, 5x30, pads 1 2 0 1, Clip, no bias', x: [1, 32, 5, 30], cout: 16, pads: [1, 2, 0, 1], act: 'Clip', bias: false },
  { name: '16 -> 16 on a 1x1 map', x: [1, 16, 1, 1], cout: 16, pads: [1, 1, 1, 1] },
  { name: '20 -> 18, batch 3, 31x3', x: [3, 20, 31, 3], cout: 18, pads: [1, 1, 1, 1] },
  { name: '32 -> 40, batch 2, 41x37, Relu', x: [2, 32, 41, 37], cout: 40, pads: [1, 1, 1, 1], act: 'Relu', split: true },
  { name: '24 -> 32 on 30x26, HardSwish', x: [1, 24, 30, 26], cout: 32, pads: [1, 1, 1, 1], act: 'HardSwish', split: true },
  { name: '16 -> 48, batch 2, 27x45, SiLU after it (a last tile row of one output row)', x: [2, 16, 27, 45], cout: 48, pads: [1, 1, 1, 1], act: 'SiLU', split: true },
  { name: '20 -> 16, 9x13, pads 0 1 2 1, Mul + Add after it', x: [1, 20, 9, 13], cout: 16, pads: [0, 1, 2, 1], act: 'MulAdd' },
];

for (const c of cases) {
  test(`Winograd conv ${c.name}: = reference, same bits on 1-3 threads (seed ${rng.seed})`, async () => {
    const cin = c.x[1]!;
    assert.ok(winogradShape({ kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, cin, cout: c.cout }), 'takes the Winograd form');
    const bias = c.bias ?? true;
    const nodes: WriterNode[] = [{ opType: 'Conv', inputs: ['x', 'w', ...(bias ? ['b'] : [])], outputs: [c.act ? 'c' : 'y'], attrs: { kernel_shape: [3, 3], pads: c.pads } }];
    if (c.act === 'Relu') nodes.push({ opType: 'Relu', inputs: ['c'], outputs: ['y'] });
    if (c.act === 'Clip') nodes.push({ opType: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] });
    if (c.act === 'HardSwish') nodes.push({ opType: 'HardSwish', inputs: ['c'], outputs: ['y'] });
    if (c.act === 'SiLU') nodes.push({ opType: 'Sigmoid', inputs: ['c'], outputs: ['s'] }, { opType: 'Mul', inputs: ['c', 's'], outputs: ['y'] });
    if (c.act === 'MulAdd') nodes.push({ opType: 'Mul', inputs: ['c', 'scale'], outputs: ['m'] }, { opType: 'Add', inputs: ['m', 'x0'], outputs: ['y'] });
    const bytes = encodeOnnxModel({
      nodes,
      inputs: [{ name: 'x', dtype: 'float32', dims: c.x }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: {
        w: tensor([c.cout, cin, 3, 3], -0.3, 0.3),
        ...(bias ? { b: tensor([c.cout], -0.5, 0.5) } : {}),
        ...(c.act === 'Clip' ? { lo: new Tensor('float32', Float32Array.of(-0.5), []), hi: new Tensor('float32', Float32Array.of(1.5), []) } : {}),
        // a [1, cout, 1, 1] scale would fold into the conv's weight (fold-conv-affine.ts): a full-shape one stays a Mul
        ...(c.act === 'MulAdd' ? { scale: tensor([1, c.cout, c.x[2]! + c.pads[0]! + c.pads[2]! - 2, c.x[3]! + c.pads[1]! + c.pads[3]! - 2], 0.5, 1.5), x0: tensor([c.cout, 1, 1], -1, 1) } : {}),
      },
      opsets: { '': 17 },
    });
    // sums of up to 576 products of |x| <= 3, |w| <= 0.3: a relative error of ~1e-6 of the sum's magnitude
    await expectSameOnThreads(bytes, { x: tensor(c.x, -3, 3) }, rng.seed, { rtol: 1e-4, atol: 5e-5, split: c.split ?? false, unfusedSteps: c.steps ?? 1 });
  });
}

test('G g G^T, the weight transform, against its formula written out', () => {
  const w = Float32Array.from(rng.floats(2 * 3 * 9, -1, 1));
  const u = winogradWeights(w, 2, 3);
  for (let co = 0; co < 2; co++) {
    for (let ci = 0; ci < 3; ci++) {
      const g = (r: number, c: number): number => w[((co * 3 + ci) * 3 + r) * 3 + c]!;
      // rows of G g: g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2; then the same on the columns
      const rows = [0, 1, 2].map((c) => [g(0, c), (g(0, c) + g(1, c) + g(2, c)) / 2, (g(0, c) - g(1, c) + g(2, c)) / 2, g(2, c)]);
      for (let i = 0; i < 4; i++) {
        const r = [rows[0]![i]!, rows[1]![i]!, rows[2]![i]!];
        const want = [r[0]!, (r[0]! + r[1]! + r[2]!) / 2, (r[0]! - r[1]! + r[2]!) / 2, r[2]!];
        for (let j = 0; j < 4; j++) {
          const got = u[((4 * i + j) * 2 + co) * 3 + ci]!;
          assert.ok(Math.abs(got - want[j]!) <= 1e-6 * (1 + Math.abs(want[j]!)), `U[${4 * i + j}][${co}][${ci}] = ${got}, want ${want[j]}`);
        }
      }
    }
  }
});

test('the Winograd form is not taken for other shapes', () => {
  const base = { kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, group: 1, cin: 32, cout: 32 };
  assert.ok(winogradShape(base));
  for (const [what, change] of [['stride 2', { sh: 2, sw: 2 }], ['dilation 2', { dh: 2, dw: 2 }], ['5x5', { kh: 5, kw: 5 }], ['groups', { group: 2 }], ['8 input channels', { cin: 8 }], ['8 output channels', { cout: 8 }]] as const) {
    assert.equal(winogradShape({ ...base, ...change }), false, what);
  }
});

test('a conv with its own activation (HardSwish, Sigmoid) takes the Winograd form: U and the activation program persist', () => {
  const [cin, cout] = [16, 24];
  for (const act of ['HardSwish', 'Sigmoid']) {
    const attrs = new Attributes(new Map<string, AttributeValue>([["kernel_shape", [3, 3]], ["pads", [1, 1, 1, 1]], ["kiln_activation", act]]));
    const w = tensor([cout, cin, 3, 3], -0.3, 0.3);
    const step = lowerConvF32([{ dtype: 'float32', dims: [1, cin, 10, 12] }, { dtype: 'float32', dims: w.dims }, { dtype: 'float32', dims: [cout] }], [{ dtype: 'float32', dims: [1, cout, 10, 12] }], { attrs, opset: 17, node: 'c', host: [], constants: [undefined, w] });
    assert.ok(step, act);
    // im2col keeps the weight where it is and persists only the program; Winograd persists U = 16 x cout x cin floats first
    assert.equal(step.persistentBytes[0], 16 * cout * cin * 4, `${act}: U first`);
    assert.equal(step.persistentBytes.length, 2, `${act}: the activation program after U`);
  }
});
