// Decomposed LayerNormalization and Gelu become the fused ops, with the original graph's answers on
// every backend; near-misses (RMSNorm, wrong constants, wrong axes, shared intermediates) stay as written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';

const rng = testRng(import.meta.url);
const rnd = (dims: number[], range: [number, number] = [-1, 1]): Tensor<'float32'> => randomTensor({ dtype: 'float32', dims, range }, rng) as Tensor<'float32'>;
const scalar = (v: number, dims: number[] = []): Tensor<'float32'> => new Tensor('float32', new Float32Array([v]), dims);
const i64 = (vs: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(vs.map(BigInt)), [vs.length]);

const optimized = (model: WriterModel, opset?: number) => optimizeGraph(readOnnxModel(encodeOnnxModel(opset ? { ...model, opsets: { '': opset } } : model)));
const opTypes = (model: WriterModel, opset?: number): string[] => optimized(model, opset).nodes.map((n) => n.opType);

/** The optimized session on each backend gives the unoptimized js session's answers. */
/** `expectOp` must run as a step (on WebGPU `gpuOp`: a Gelu after a MatMul runs in the MatMul's epilogue there). */
async function sameResults(model: WriterModel, feeds: Record<string, Tensor<'float32'>>, expectOp: string, gpuOp = expectOp): Promise<void> {
  const bytes = encodeOnnxModel(model);
  const plain = await InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  const want = await plain.run(feeds);
  await plain.release();
  for (const backend of ['cpu', 'webgpu', 'wasm'] as const) {
    const opt = await InferenceSession.create(bytes, { executionProviders: [backend] });
    const got = await opt.run(feeds);
    const op = backend === 'webgpu' ? gpuOp : expectOp;
    assert.ok(opt.lastPlacement?.steps.some((s) => s.opType === op), `${backend}: a ${op} step ran`);
    for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-4, atol: 1e-5 }), undefined, `${backend} ${k}`);
    await opt.release();
  }
}

interface LnOptions {
  readonly square?: 'pow' | 'mul';
  readonly divide?: 'div' | 'reciprocal';
  readonly affine?: boolean;
  readonly axes?: number[];
  readonly varianceAxes?: number[];
  readonly eps?: string;
  readonly exponent?: string;
  /** RMSNorm-like: no mean; the variance and the division read x */
  readonly uncentred?: boolean;
  /** the variance is of x - mean, but the division reads x */
  readonly divideX?: boolean;
}

/** A decomposed LayerNorm over x [2, 5, 16] as PyTorch / PaddlePaddle export it. */
function layerNorm(o: LnOptions = {}): WriterModel {
  const axes = o.axes ?? [-1];
  const d = o.uncentred ? 'x' : 'd';
  const nodes: WriterModel['nodes'] = [
    ...(o.uncentred ? [] : [{ opType: 'ReduceMean', inputs: ['x'], outputs: ['m'], attrs: { axes } }, { opType: 'Sub', inputs: ['x', 'm'], outputs: ['d'] }]),
    o.square === 'mul' ? { opType: 'Mul', inputs: [d, d], outputs: ['sq'] } : { opType: 'Pow', inputs: [d, o.exponent ?? 'two'], outputs: ['sq'] },
    { opType: 'ReduceMean', inputs: ['sq'], outputs: ['v'], attrs: { axes: o.varianceAxes ?? axes } },
    { opType: 'Add', inputs: ['v', o.eps ?? 'eps'], outputs: ['ve'] },
    { opType: 'Sqrt', inputs: ['ve'], outputs: ['s'] },
    ...(o.divide === 'reciprocal'
      ? [{ opType: 'Reciprocal', inputs: ['s'], outputs: ['r'] }, { opType: 'Mul', inputs: [d, 'r'], outputs: ['n'] }]
      : [{ opType: 'Div', inputs: [o.divideX ? 'x' : d, 's'], outputs: ['n'] }]),
    ...(o.affine === false ? [{ opType: 'Identity', inputs: ['n'], outputs: ['y'] }] : [{ opType: 'Mul', inputs: ['n', 'gamma'], outputs: ['g'] }, { opType: 'Add', inputs: ['beta', 'g'], outputs: ['y'] }]),
  ];
  return {
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 5, 16] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { two: scalar(2), three: scalar(3), eps: scalar(1e-5), epsVec: rnd([16], [1e-5, 2e-5]), gamma: rnd([16], [0.5, 1.5]), beta: rnd([16]) },
  };
}

test('decomposed LayerNorm (Pow or Mul square, Div or Reciprocal, with or without gamma/beta) becomes LayerNormalization', async () => {
  for (const o of [{}, { square: 'mul', divide: 'reciprocal' }, { affine: false }, { axes: [-2, -1] }, { axes: [2] }] as LnOptions[]) {
    const model = layerNorm(o);
    assert.deepEqual(opTypes(model).filter((t) => t !== 'Identity'), ['LayerNormalization'], JSON.stringify(o));
    // rows far from 0 with a small spread: where a wrong mean or variance would show
    await sameResults(model, { x: rnd([2, 5, 16], [3, 5]) }, 'LayerNormalization');
  }
  const ln = optimized(layerNorm({ axes: [-2, -1] })).nodes[0]!;
  assert.equal(ln.attrs.int('axis'), -2);
  assert.ok(Math.abs(ln.attrs.float('epsilon')! - 1e-5) < 1e-11);
});

test('decomposed LayerNorm with axes as an input (opset 18) is recognised', () => {
  const model = layerNorm();
  const nodes = model.nodes.map((n) => (n.opType === 'ReduceMean' ? { ...n, inputs: [...n.inputs, 'axes'], attrs: {} } : n));
  assert.deepEqual(opTypes({ ...model, nodes, initializers: { ...model.initializers, axes: i64([-1]) } }, 18), ['LayerNormalization']);
});

test('look-alikes of LayerNorm stay as they are', () => {
  const written = (m: WriterModel): string[] => m.nodes.map((n) => n.opType).filter((t) => t !== 'Identity');
  const cases: [string, WriterModel][] = [
    ['RMSNorm-like: mean not subtracted', layerNorm({ uncentred: true })],
    ['mean subtracted in the variance only', layerNorm({ divideX: true })],
    ['variance over other axes', layerNorm({ axes: [-1], varianceAxes: [-2] })],
    ['Pow 3, not 2', layerNorm({ exponent: 'three' })],
    ['eps not a scalar', layerNorm({ eps: 'epsVec' })],
    ['axes not trailing', layerNorm({ axes: [1] })],
  ];
  for (const [why, m] of cases) assert.deepEqual(opTypes(m).filter((t) => t !== 'Identity'), written(m), why);
  // the centred value also feeds a graph output
  const shared = layerNorm();
  assert.deepEqual(opTypes({ ...shared, outputs: [...shared.outputs, { name: 'd', dtype: 'float32' }] }), written(shared));
  // the mean also feeds another node
  const meanUsed = layerNorm();
  const withUse = { ...meanUsed, nodes: [...meanUsed.nodes, { opType: 'Relu', inputs: ['m'], outputs: ['z'] }], outputs: [...meanUsed.outputs, { name: 'z', dtype: 'float32' as const }] };
  assert.deepEqual(opTypes(withUse), [...written(meanUsed), 'Relu']);
});

type GeluForm = 'erf-div' | 'erf-mul' | 'tanh-pow' | 'tanh-mul';
type Assoc = 'xc-half' | 'c-half-x' | 'halfx-c';

/** 0.5 x (1 + erf(x / sqrt 2)) or 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) after a MatMul. */
function gelu(form: GeluForm, assoc: Assoc, k: { sqrt2?: number; cubic?: number; half?: number } = {}): WriterModel {
  const inner: WriterModel['nodes'] = form.startsWith('erf')
    ? [
        form === 'erf-div' ? { opType: 'Div', inputs: ['x', 'k1'], outputs: ['a'] } : { opType: 'Mul', inputs: ['k1', 'x'], outputs: ['a'] },
        { opType: 'Erf', inputs: ['a'], outputs: ['f'] },
      ]
    : [
        ...(form === 'tanh-pow'
          ? [{ opType: 'Pow', inputs: ['x', 'three'], outputs: ['x3'] }]
          : [{ opType: 'Mul', inputs: ['x', 'x'], outputs: ['x2'] }, { opType: 'Mul', inputs: ['x2', 'x'], outputs: ['x3'] }]),
        { opType: 'Mul', inputs: ['k2', 'x3'], outputs: ['t'] },
        { opType: 'Add', inputs: ['x', 't'], outputs: ['u'] },
        { opType: 'Mul', inputs: ['u', 'k1'], outputs: ['a'] },
        { opType: 'Tanh', inputs: ['a'], outputs: ['f'] },
      ];
  const tail: WriterModel['nodes'] = {
    'xc-half': [{ opType: 'Mul', inputs: ['x', 'c'], outputs: ['p'] }, { opType: 'Mul', inputs: ['p', 'half'], outputs: ['y'] }],
    'c-half-x': [{ opType: 'Mul', inputs: ['half', 'c'], outputs: ['p'] }, { opType: 'Mul', inputs: ['x', 'p'], outputs: ['y'] }],
    'halfx-c': [{ opType: 'Mul', inputs: ['x', 'half'], outputs: ['p'] }, { opType: 'Mul', inputs: ['c', 'p'], outputs: ['y'] }],
  }[assoc];
  const erf = form.startsWith('erf');
  const k1 = erf ? (form === 'erf-div' ? (k.sqrt2 ?? Math.SQRT2) : 1 / (k.sqrt2 ?? Math.SQRT2)) : (k.sqrt2 ?? Math.sqrt(2 / Math.PI));
  return {
    nodes: [{ opType: 'MatMul', inputs: ['in', 'w'], outputs: ['x'] }, ...inner, { opType: 'Add', inputs: ['f', 'one'], outputs: ['c'] }, ...tail],
    inputs: [{ name: 'in', dtype: 'float32', dims: [6, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: rnd([8, 24]), k1: scalar(k1, [1]), k2: scalar(k.cubic ?? 0.044715), three: scalar(3), one: scalar(1), half: scalar(k.half ?? 0.5) },
  };
}

test('decomposed Gelu (erf and tanh forms, each association of the 0.5 x product) becomes Gelu', async () => {
  for (const [form, assoc] of [['erf-div', 'xc-half'], ['erf-mul', 'c-half-x'], ['tanh-pow', 'halfx-c'], ['tanh-mul', 'xc-half']] as const) {
    const model = gelu(form, assoc);
    const g = optimized(model);
    assert.deepEqual(g.nodes.map((n) => n.opType), ['MatMul', 'Gelu'], `${form} ${assoc}`);
    assert.equal(g.nodes[1]!.attrs.string('approximate', ''), form.startsWith('erf') ? 'none' : 'tanh');
    await sameResults(model, { in: rnd([6, 8], [-3, 3]) }, 'Gelu', 'MatMul');
  }
});

test('look-alikes of Gelu stay as they are', () => {
  const count = (m: WriterModel): number => optimized(m).nodes.length;
  const cases: [string, WriterModel][] = [
    ['sqrt 2 off by 1e-4', gelu('erf-div', 'xc-half', { sqrt2: Math.SQRT2 * (1 + 1e-4) })],
    ['0.044716', gelu('tanh-pow', 'xc-half', { cubic: 0.044716 })],
    ['times 0.6, not 0.5', gelu('erf-div', 'c-half-x', { half: 0.6 })],
  ];
  for (const [why, m] of cases) assert.equal(count(m), m.nodes.length, why);
  // erf's output also a graph output
  const m = gelu('erf-div', 'xc-half');
  assert.equal(count({ ...m, outputs: [...m.outputs, { name: 'f', dtype: 'float32' }] }), m.nodes.length);
  // the product is of another tensor, not the erf's argument
  const other = gelu('erf-div', 'xc-half');
  const swapped = { ...other, nodes: other.nodes.map((n) => (n.outputs[0] === 'p' ? { ...n, inputs: ['in2', 'c'] } : n)), inputs: [...other.inputs, { name: 'in2', dtype: 'float32' as const, dims: [6, 24] }] };
  assert.equal(count(swapped), swapped.nodes.length);
});
