import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]) => ({ dtype: 'float32' as const, dims });
const i32 = (dims: number[]) => ({ dtype: 'int32' as const, dims });
const typed = (dtype: DataType, dims: number[], range?: [number, number]): InputSpec => ({ dtype, dims, ...(range ? { range } : {}) });

const cases: OpCase[] = [
  // int32/int64 Add/Sub/Mul on wasm (kernels/wasm/src/eltwise-int.c): any broadcast of both operands,
  // odd sizes (values beyond 2^53 and wrapping: test/ops/integer-wrap-parity.test.ts)
  ...['Add', 'Sub', 'Mul'].flatMap((op) => (['int32', 'int64'] as const).flatMap((dt): OpCase[] => [
    { name: `${op} ${dt} wasm same shape odd`, op, inputs: [typed(dt, [3, 7], [-40000, 40000]), typed(dt, [3, 7], [-40000, 40000])], wasmKernel: true },
    { name: `${op} ${dt} wasm both broadcast`, op, inputs: [typed(dt, [2, 1, 5], [-1000, 1000]), typed(dt, [3, 1], [-1000, 1000])], wasmKernel: true },
    { name: `${op} ${dt} wasm scalar first`, op, inputs: [typed(dt, [], [-9, 9]), typed(dt, [4, 3], [-1e6, 1e6])], wasmKernel: true },
  ])),
  { name: 'Add int32 wasm wraps', op: 'Add', inputs: [{ dtype: 'int32', dims: [3], values: [2147483647, -2147483648, 5], feed: true }, { dtype: 'int32', dims: [3], values: [1, -1, 7], feed: true }], wasmKernel: true },
  { name: 'Mul int32 wasm wraps', op: 'Mul', inputs: [{ dtype: 'int32', dims: [2], values: [65536, -65537], feed: true }, { dtype: 'int32', dims: [2], values: [65537, 40000], feed: true }], wasmKernel: true },
  ...['Add', 'Sub', 'Mul', 'Div'].flatMap((op): OpCase[] => [
    { name: `${op} same shape`, op, inputs: [f32([3, 4, 5]), { ...f32([3, 4, 5]), range: [0.5, 2] }] },
    { name: `${op} broadcast row`, op, inputs: [f32([2, 3, 4]), { ...f32([4]), range: [0.5, 2] }] },
    { name: `${op} broadcast both`, op, inputs: [f32([2, 1, 4]), { ...f32([3, 1]), range: [0.5, 2] }] },
    { name: `${op} scalar`, op, inputs: [f32([7, 9]), { ...f32([]), range: [0.5, 2] }] },
    { name: `${op} int32`, op, inputs: [i32([5, 6]), { ...i32([6]), range: [1, 9] }] },
  ]),
  // the vec4 rows form (innermost merged axis % 4 == 0; webgpu.ts rowVec4): one value per row on either
  // side (squeeze-excite), a row vector along it (bias), a spanning operand smaller than the output,
  // other output types (bool, int32); an inner axis of 6 takes the scalar broadcast
  ...['Add', 'Sub', 'Mul', 'Div'].flatMap((op): OpCase[] => [
    { name: `${op} vec4 rows, one value per row`, op, inputs: [f32([2, 6, 4, 8]), { ...f32([2, 6, 1, 1]), range: [0.5, 2] }] },
    { name: `${op} vec4 rows, row value first`, op, inputs: [{ ...f32([1, 6, 1, 1]), range: [0.5, 2] }, { ...f32([1, 6, 3, 4]), range: [0.5, 2] }] },
    { name: `${op} vec4 rows, bias and a spanning operand smaller than the output`, op, inputs: [f32([3, 1, 12]), { ...f32([3, 5, 1]), range: [0.5, 2] }] },
  ]),
  { name: 'Greater vec4 rows (bool out)', op: 'Greater', inputs: [f32([3, 8]), f32([3, 1])] },
  { name: 'Add int32 vec4 rows', op: 'Add', inputs: [i32([5, 12]), i32([12])] },
  { name: 'Mul inner axis of 6 (scalar broadcast)', op: 'Mul', inputs: [f32([4, 6]), f32([4, 1])] },
  // the vec4 form (element count % 4 == 0) with a one-element operand on either side, and its outputs
  // of other types (bool from a comparison, wrapped int8)
  ...['Add', 'Sub', 'Div'].flatMap((op): OpCase[] => [
    { name: `${op} vec4 form scalar first`, op, inputs: [{ ...f32([]), range: [0.5, 2] }, { ...f32([4, 8]), range: [0.5, 2] }] },
    { name: `${op} vec4 form scalar second`, op, inputs: [f32([4, 8]), { ...f32([1]), range: [0.5, 2] }] },
  ]),
  // float16 (stored widened to f32 today; rounded to half on the way out): both forms. One half ulp
  // is 2^-10 relative (~9.8e-4) at worst, so rtol 2e-3 allows a one-ulp rounding difference.
  { name: 'Mul float16 vec4 form', op: 'Mul', inputs: [typed('float16', [4, 8]), typed('float16', [4, 8])], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  { name: 'Add float16 scalar form', op: 'Add', inputs: [typed('float16', [3, 5]), typed('float16', [])], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  { name: 'Less vec4 form', op: 'Less', inputs: [f32([2, 16]), f32([2, 16])] },
  { name: 'Mul int8 vec4 form wraps', op: 'Mul', inputs: [typed('int8', [32], [-128, 128]), typed('int8', [32], [-128, 128])] },
  { name: 'Pow negative base, integral exponent', op: 'Pow', inputs: [f32([4, 4]), { dtype: 'float32', dims: [4], values: [2, 3, -1, 0] }] },
  { name: 'Pow positive base', op: 'Pow', inputs: [{ ...f32([4, 4]), range: [0.1, 3] }, f32([4, 4])] },
  { name: 'Greater broadcast', op: 'Greater', inputs: [f32([3, 4]), f32([4])] },
  { name: 'Equal int', op: 'Equal', inputs: [{ ...i32([64]), range: [0, 3] }, { ...i32([64]), range: [0, 3] }] },
  { name: 'Add large (2-D dispatch)', op: 'Add', inputs: [f32([1100, 4096]), f32([4096])] },
  // Mod: divisor sign (fmod=0) vs dividend sign (fmod=1), both signs of divisor
  { name: 'Mod int32 floor', op: 'Mod', inputs: [typed('int32', [40], [-50, 50]), typed('int32', [40], [1, 9])] },
  { name: 'Mod int32 floor negative divisor', op: 'Mod', inputs: [typed('int32', [40], [-50, 50]), typed('int32', [1], [-9, -1])] },
  { name: 'Mod int32 fmod', op: 'Mod', attrs: { fmod: 1 }, inputs: [typed('int32', [40], [-50, 50]), typed('int32', [40], [-9, -1])] },
  { name: 'Mod int8 floor', op: 'Mod', inputs: [typed('int8', [40], [-128, 128]), typed('int8', [40], [1, 20])] },
  { name: 'Mod uint16', op: 'Mod', inputs: [typed('uint16', [40], [0, 65536]), typed('uint16', [40], [1, 300])] },
  { name: 'Mod float32 fmod', op: 'Mod', attrs: { fmod: 1 }, inputs: [typed('float32', [3, 40], [-10, 10]), typed('float32', [40], [0.5, 3])] },
  { name: 'Mod float32 fmod negative divisor', op: 'Mod', attrs: { fmod: 1 }, inputs: [typed('float32', [40], [-10, 10]), typed('float32', [40], [-3, -0.5])] },
  { name: 'PRelu per-channel slope', op: 'PRelu', inputs: [f32([2, 3, 4, 5]), f32([3, 1, 1])] },
  { name: 'PRelu scalar slope', op: 'PRelu', inputs: [f32([2, 3, 4]), f32([1])] },
  { name: 'PRelu opset 6 1-D slope is per channel', op: 'PRelu', opset: 6, inputs: [f32([2, 3, 4, 5]), f32([3])] },
  { name: 'PRelu int32', op: 'PRelu', inputs: [i32([20]), i32([20])] },
  { name: 'BitShift left uint8 overflows', op: 'BitShift', attrs: { direction: 'LEFT' }, inputs: [typed('uint8', [40], [0, 256]), typed('uint8', [40], [0, 10])] },
  { name: 'BitShift right uint32', op: 'BitShift', attrs: { direction: 'RIGHT' }, inputs: [typed('uint32', [40], [0, 4e9]), typed('uint32', [1], [0, 33])] },
  { name: 'BitShift left uint32 broadcast', op: 'BitShift', attrs: { direction: 'LEFT' }, inputs: [typed('uint32', [3, 40], [0, 4e9]), typed('uint32', [40], [0, 40])] },
  { name: 'BitShift left uint16', op: 'BitShift', attrs: { direction: 'LEFT' }, inputs: [typed('uint16', [40], [0, 65536]), typed('uint16', [40], [0, 17])] },
  ...['BitwiseAnd', 'BitwiseOr', 'BitwiseXor'].flatMap((op): OpCase[] => [
    { name: `${op} int32`, op, opset: 18, inputs: [typed('int32', [40], [-1e6, 1e6]), typed('int32', [40], [-1e6, 1e6])] },
    { name: `${op} uint8 broadcast`, op, opset: 18, inputs: [typed('uint8', [3, 4, 40], [0, 256]), typed('uint8', [40], [0, 256])] },
    { name: `${op} int16`, op, opset: 18, inputs: [typed('int16', [40], [-30000, 30000]), typed('int16', [40], [-30000, 30000])] },
    { name: `${op} uint32`, op, opset: 18, inputs: [typed('uint32', [40], [0, 4e9]), typed('uint32', [40], [0, 4e9])] },
  ]),
  // The wasm kernel's forms (kernels/wasm/src/eltwise-binary.c), both operand orders, tails that are
  // not a multiple of 4, and the broadcasts it declines (both operands broadcast: js).
  ...['Add', 'Sub', 'Mul', 'Div'].flatMap((op): OpCase[] => [
    { name: `${op} wasm same shape odd`, op, inputs: [f32([3, 7]), { ...f32([3, 7]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm row vector`, op, inputs: [f32([5, 7]), { ...f32([7]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm row vector first`, op, inputs: [{ ...f32([1, 7]), range: [0.5, 2] }, { ...f32([5, 7]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm per channel`, op, inputs: [f32([2, 3, 5, 3]), { ...f32([3, 1, 1]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm per channel first`, op, inputs: [{ ...f32([1, 3, 1, 1]), range: [0.5, 2] }, { ...f32([2, 3, 5, 3]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm scalar`, op, inputs: [f32([9, 3]), { ...f32([1]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm scalar first`, op, inputs: [{ ...f32([]), range: [0.5, 2] }, { ...f32([9, 3]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm middle block`, op, inputs: [f32([2, 4, 3, 5]), { ...f32([4, 3, 1]), range: [0.5, 2] }], wasmKernel: true },
    { name: `${op} wasm declines a split broadcast`, op, inputs: [f32([2, 4, 3]), { ...f32([2, 1, 3]), range: [0.5, 2] }] },
  ]),
  // Pow by a constant 2 or 3 runs as a unary pass in wasm (odd sizes, a tail of 3); other exponents decline to js
  { name: 'Pow wasm square odd', op: 'Pow', inputs: [f32([5, 7]), { dtype: 'float32', dims: [], values: [2] }], wasmKernel: true },
  { name: 'Pow wasm cube int64 exponent', op: 'Pow', inputs: [f32([3, 11]), { dtype: 'int64', dims: [1], values: [3] }], wasmKernel: true },
  { name: 'Pow wasm declines exponent 0.5', op: 'Pow', inputs: [{ ...f32([3, 5]), range: [0.1, 3] }, { dtype: 'float32', dims: [], values: [0.5] }] },
  // comparisons and logical ops in wasm (kernels/wasm/src/compare.c): every dtype the arena holds,
  // both operands broadcast at once, odd sizes; small integer ranges so equal values occur
  ...(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual'] as const).flatMap((op): OpCase[] => [
    { name: `${op} wasm float32 both broadcast`, op, inputs: [typed('float32', [3, 1, 5]), typed('float32', [4, 1])], wasmKernel: true },
    { name: `${op} wasm int64 scalar`, op, inputs: [typed('int64', [2, 9], [-4, 4]), typed('int64', [], [-4, 4])], wasmKernel: true },
    { name: `${op} wasm int32 row`, op, inputs: [typed('int32', [5], [-3, 3]), typed('int32', [3, 5], [-3, 3])], wasmKernel: true },
    { name: `${op} wasm uint8`, op, inputs: [typed('uint8', [2, 3, 7], [0, 4]), typed('uint8', [2, 3, 7], [0, 4])], wasmKernel: true },
    { name: `${op} wasm int8 middle block`, op, inputs: [typed('int8', [2, 4, 3], [-2, 2]), typed('int8', [4, 1], [-2, 2])], wasmKernel: true },
  ]),
  { name: 'Equal wasm bool', op: 'Equal', inputs: [typed('bool', [3, 5]), typed('bool', [5])], wasmKernel: true },
  ...(['And', 'Or', 'Xor'] as const).flatMap((op): OpCase[] => [
    { name: `${op} wasm same shape odd`, op, inputs: [typed('bool', [3, 7]), typed('bool', [3, 7])], wasmKernel: true },
    { name: `${op} wasm both broadcast`, op, inputs: [typed('bool', [2, 1, 3]), typed('bool', [5, 1])], wasmKernel: true },
  ]),
];

runOpCases('elementwise-binary', cases);

runBadInputCases('elementwise-binary', [
  { name: 'Add of mixed types', op: 'Add', inputs: [f32([3]), i32([3])], error: /different types \(float32, int32\)/ },
  { name: 'Mod fmod out of range', op: 'Mod', attrs: { fmod: 2 }, inputs: [i32([3]), i32([3])], error: /fmod must be 0 or 1, got 2/ },
  { name: 'BitShift without direction', op: 'BitShift', inputs: [typed('uint8', [3]), typed('uint8', [3])], error: /direction must be 'LEFT' or 'RIGHT'/ },
  { name: 'BitShift on signed ints', op: 'BitShift', attrs: { direction: 'LEFT' }, inputs: [i32([3]), i32([3])], error: /type int32 is not one of uint8/ },
]);
