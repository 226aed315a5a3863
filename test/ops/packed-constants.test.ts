// 8-bit constants live packed on the GPU (4 per word); kernels read them through TensorVar.get().
import { runOpCases, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));

const cases: OpCase[] = [
  { name: 'Add int8 input + packed int8 constant (odd size)', op: 'Add', inputs: [{ dtype: 'int8', dims: [3, 7], range: [-50, 50] }, { dtype: 'int8', dims: [3, 7], values: ints(21, -60, 60) }] },
  { name: 'Mul uint8 input * packed uint8 constant, broadcast', op: 'Mul', inputs: [{ dtype: 'uint8', dims: [5, 6], range: [0, 15] }, { dtype: 'uint8', dims: [6], values: ints(6, 0, 16) }] },
  { name: 'Less int8 with packed negative constants', op: 'Less', inputs: [{ dtype: 'int8', dims: [9], range: [-128, 127] }, { dtype: 'int8', dims: [9], values: ints(9, -128, 127) }] },
];

runOpCases('packed-constants', cases);
