// Chains of elementwise ops run as one pass on the wasm backend (runtime/backends/wasm/
// elementwise-chains.ts, kernels/wasm/src/eltwise-chain.c). Each graph runs three ways: on the
// reference backend (the answer, within tolerance), on wasm as a chain (placement says which steps
// were taken in), and on wasm with every intermediate also a graph output, which stops fusion: the
// chain must give the same bits as the ops one by one. Sizes cross the C side's 1024-float tiles at
// odd points; rows, channels and tails are not multiples of 4. Seeded inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
console.log(`wasm elementwise chain tests: KILN_TEST_SEED=${rng.seed}`);

const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
const node = (name: string, opType: string, inputs: string[], attrs?: WriterNode['attrs']): WriterNode => ({ name, opType, inputs, outputs: [name], ...(attrs ? { attrs } : {}) });

interface ChainGraph {
  readonly nodes: WriterNode[];
  readonly dims: number[];
  readonly output: string;
  readonly inits?: Record<string, AnyTensor>;
  /** node name -> the node whose pass computes it, for every step the chain takes in */
  readonly fused: Record<string, string>;
  readonly range?: [number, number];
}

function model(g: ChainGraph, outputs: readonly string[]): Uint8Array {
  return encodeOnnxModel({
    nodes: g.nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: g.dims }],
    outputs: outputs.map((name) => ({ name, dtype: 'float32' as const })),
    initializers: g.inits ?? {},
  });
}

async function checkChain(g: ChainGraph): Promise<void> {
  const n = g.dims.reduce((a, d) => a * d, 1);
  const [lo, hi] = g.range ?? [-5, 5];
  const feeds = { x: new Tensor('float32', Float32Array.from(rng.floats(n, lo, hi)), g.dims) };
  const every = g.nodes.map((x) => x.name!);
  const reference = await InferenceSession.create(model(g, [g.output]), { executionProviders: [{ name: 'js', reference: true }] });
  // Graph passes off: the chains are the backend's own fusion, and a pass would otherwise turn some
  // of them into one op first (a decomposed GELU becomes Gelu: runtime/graph/passes/recognize-gelu.ts).
  const fused = await InferenceSession.create(model(g, [g.output]), { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  const apart = await InferenceSession.create(model(g, every), { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  try {
    const want = (await reference.run(feeds))[g.output]!;
    const alone = (await apart.run(feeds))[g.output]!;
    for (let run = 0; run < 2; run++) {
      const got = (await fused.run(feeds))[g.output]!;
      assert.equal(compareTensors(got, want, { rtol: 1e-5, atol: 1e-6 }), undefined, `run ${run} vs reference (seed ${rng.seed})`);
      assert.deepEqual(got.data, alone.data, `run ${run}: the chain's bits differ from the ops one by one (seed ${rng.seed})`);
    }
    const steps = fused.lastPlacement?.steps ?? [];
    assert.ok(steps.every((s) => s.implementation === 'wasm'), JSON.stringify(steps));
    const fusedInto = Object.fromEntries(steps.flatMap((s) => (s.fusedInto !== undefined ? [[s.node, s.fusedInto]] : [])));
    assert.deepEqual(fusedInto, g.fused);
    assert.ok((apart.lastPlacement?.steps ?? []).every((s) => s.fusedInto === undefined), 'graph outputs are never fused away');
  } finally {
    await Promise.all([reference.release(), fused.release(), apart.release()]);
  }
}

test('a decomposed HardSwish (Add, Clip, Div, Mul by the input) is one pass', async () => {
  await checkChain({
    dims: [1, 5, 37, 41],
    nodes: [node('a', 'Add', ['x', 'three']), node('c', 'Clip', ['a', 'zero', 'six']), node('d', 'Div', ['c', 'six']), node('y', 'Mul', ['x', 'd'])],
    inits: { three: scalar(3), zero: scalar(0), six: scalar(6) },
    output: 'y',
    fused: { a: 'y', c: 'y', d: 'y' },
  });
});

test('an SE-style gate: per-channel Mul, Relu, then Sub from a row vector (second operand carries the chain)', async () => {
  const row = new Tensor('float32', Float32Array.from(rng.floats(23, -1, 1)), [23]);
  await checkChain({
    dims: [1, 6, 19, 23],
    nodes: [
      node('p', 'GlobalAveragePool', ['x']),
      node('h', 'HardSigmoid', ['p'], { alpha: 0.3, beta: 0.4 }),
      node('m', 'Mul', ['x', 'h']),
      node('r', 'Relu', ['m']),
      node('y', 'Sub', ['row', 'r']),
    ],
    inits: { row },
    output: 'y',
    fused: { m: 'y', r: 'y' },
  });
});

test('a decomposed exact GELU (Div, Erf, Add, Mul, Mul) is one pass', async () => {
  await checkChain({
    dims: [3, 1031],
    nodes: [node('d', 'Div', ['x', 'sqrt2']), node('e', 'Erf', ['d']), node('f', 'Add', ['e', 'one']), node('g', 'Mul', ['x', 'f']), node('y', 'Mul', ['g', 'half'])],
    inits: { sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) },
    output: 'y',
    fused: { d: 'y', e: 'y', f: 'y', g: 'y' },
  });
});

test('Pow by 2 and 3, a same-shape operand, Tanh, Sub with the chain second', async () => {
  await checkChain({
    dims: [7, 149],
    range: [-2, 2],
    nodes: [node('p', 'Pow', ['x', 'two']), node('q', 'Add', ['p', 'x']), node('c', 'Pow', ['q', 'three']), node('t', 'Tanh', ['c']), node('y', 'Sub', ['x', 't'])],
    inits: { two: scalar(2), three: new Tensor('int64', BigInt64Array.of(3n), []) },
    output: 'y',
    fused: { p: 'y', q: 'y', c: 'y', t: 'y' },
  });
});

test('a value read twice ends a chain: only the single-use links fuse', async () => {
  await checkChain({
    dims: [5, 77],
    nodes: [node('e', 'Exp', ['x']), node('s', 'Sigmoid', ['e']), node('m', 'Mul', ['e', 's']), node('y', 'Neg', ['m'])],
    output: 'y',
    // e is read by s and m: s starts a chain that m and y join, with e its input and operand
    fused: { s: 'y', m: 'y' },
    range: [-3, 3],
  });
});
