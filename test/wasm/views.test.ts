// Reshape-like ops on the wasm backend are views (WasmStep.viewOf): the output shares its input's
// arena bytes. These graphs make a value's bytes free for reuse right after the view step unless
// the backend stretches the viewed value's lifetime to the view's last use, so a planner that
// forgot would let a later step overwrite the view before it is read. Seeded inputs; each graph's
// answer is the reference backend's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
console.log(`wasm view tests: KILN_TEST_SEED=${rng.seed}`);

const shape = (...d: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(d.map(BigInt)), [d.length]);
const node = (opType: string, inputs: string[], outputs: string[], attrs?: WriterNode['attrs']): WriterNode => ({ opType, inputs, outputs, ...(attrs ? { attrs } : {}) });

async function compareOnWasm(nodes: WriterNode[], outputs: string[], inits: Record<string, AnyTensor>, viewOps: number): Promise<void> {
  const bytes = encodeOnnxModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 6] }],
    outputs: outputs.map((name) => ({ name, dtype: 'float32' as const })),
    initializers: inits,
  });
  const feeds = { x: new Tensor('float32', Float32Array.from(rng.floats(12, -2, 2)), [2, 6]) };
  const reference = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const wasm = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const want = await reference.run(feeds);
    for (let run = 0; run < 2; run++) {
      const got = await wasm.run(feeds);
      for (const name of outputs) assert.equal(compareTensors(got[name]!, want[name]!, { rtol: 1e-5, atol: 1e-6 }), undefined, `run ${run} ${name} (seed ${rng.seed})`);
    }
    const steps = wasm.lastPlacement?.steps ?? [];
    assert.ok(steps.every((s) => s.implementation === 'wasm'), JSON.stringify(steps));
    assert.equal(steps.filter((s) => ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity'].includes(s.opType)).length, viewOps);
  } finally {
    await reference.release();
    await wasm.release();
  }
}

test('a view outlives the value it views: later steps do not take its bytes', async () => {
  await compareOnWasm(
    [
      node('Relu', ['x'], ['a']),
      node('Reshape', ['a', 's34'], ['b']), // a's own last use
      node('Neg', ['x'], ['c']), // free bytes wanted here: a's would be, without the stretch
      node('Reshape', ['c', 's34'], ['d']),
      node('Exp', ['d'], ['e']),
      node('Sigmoid', ['e'], ['f']),
      node('Add', ['b', 'f'], ['y']),
    ],
    ['y'],
    { s34: shape(3, 4) },
    2,
  );
});

test('chains of views, a view of the graph input, views as graph outputs', async () => {
  await compareOnWasm(
    [
      node('Flatten', ['x'], ['x1'], { axis: 0 }),
      node('Unsqueeze', ['x1', 'ax0'], ['x2']),
      node('Reshape', ['x2', 's34'], ['x3']),
      node('Tanh', ['x3'], ['t']),
      node('Identity', ['t'], ['t1']),
      node('Reshape', ['t1', 's26'], ['t2']),
      node('Squeeze', ['x2', 'ax0'], ['x4']),
      node('Mul', ['t2', 'x'], ['m']),
      node('Reshape', ['m', 's34'], ['y1']),
      node('Abs', ['x4'], ['y2']),
    ],
    ['y1', 'y2', 't2'],
    { s34: shape(3, 4), s26: shape(2, 6), ax0: shape(0) },
    6,
  );
});
