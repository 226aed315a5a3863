// Elementwise chains on the wasm thread pool (runtime/backends/wasm/wasm-backend.ts chainStep ->
// parallelRows over kiln_chain_part_f32's blocks of 2048 elements, kernels/wasm/src/eltwise-chain.c):
// 1, 2 and 3 threads give the same bits, the 1-thread output matches the separate ops' references
// (so it is no oracle of itself), and the 2- and 3-thread runs really dispatched to the pool (the
// first call of a shape runs split, split-choice.ts). The chain is PaddleOCR v4 rec's conv tail
// (Mul, Add, HardSwish, Mul, Add) with per-channel operands, so a part's broadcast index must be the
// absolute one: [1, 37, 61, 67] = 151,219 elements, a last block of 1715, a tail that is no multiple of 4.
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { testRng } from '../helpers/random.ts';
import { expectSameOnThreads } from '../helpers/same-on-threads.ts';

const rng = testRng(import.meta.url);
const DIMS = [1, 37, 61, 67];
const C = DIMS[1]!;

test(`a conv tail chain (Mul, Add, HardSwish, Mul, Add; per-channel operands) on 1, 2, 3 threads: same bits, = reference, split (seed ${rng.seed})`, async () => {
  const perChannel = (lo: number, hi: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(C, lo, hi)), [C, 1, 1]);
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'Mul', inputs: ['x', 's1'], outputs: ['a'] },
      { opType: 'Add', inputs: ['a', 'b1'], outputs: ['b'] },
      { opType: 'HardSwish', inputs: ['b'], outputs: ['h'] },
      { opType: 'Mul', inputs: ['s2', 'h'], outputs: ['c'] },
      { opType: 'Add', inputs: ['c', 'b2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: DIMS }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { s1: perChannel(0.5, 2), b1: perChannel(-1, 1), s2: perChannel(-2, 2), b2: new Tensor('float32', Float32Array.of(rng.range(-1, 1)), []) },
    opsets: { '': 17 },
  });
  const x = new Tensor('float32', Float32Array.from(rng.floats(DIMS.reduce((a, d) => a * d, 1), -6, 6)), DIMS);
  await expectSameOnThreads(bytes, { x }, rng.seed, { rtol: 1e-5, atol: 1e-6, split: true, unfusedSteps: 1 });
});
