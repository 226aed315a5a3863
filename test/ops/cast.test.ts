import type { DataType } from '../../core/dtype.ts';
import { onnxTypeCode } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const t = (dtype: DataType, dims: number[], range?: [number, number]): InputSpec => ({ dtype, dims, ...(range ? { range } : {}) });

// Every GPU-storable pair; ranges cross the narrow types' limits so wrap-around is exercised.
const GPU_TYPES: DataType[] = ['float32', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'bool'];
const RANGE: Partial<Record<DataType, [number, number]>> = {
  float32: [-300, 300], float16: [-300, 300], int8: [-128, 128], uint8: [0, 256], int16: [-40000, 40000],
  uint16: [0, 65536], int32: [-100000, 100000], uint32: [0, 100000], int64: [-100000, 100000],
};

/** the types the wasm backend's arena holds: Cast between them runs its kernel (kernels/wasm/src/cast.c) */
const WASM_TYPES: DataType[] = ['float32', 'float16', 'int32', 'int64', 'uint8', 'int8', 'bool'];

const pairs = GPU_TYPES.flatMap((from) => GPU_TYPES.filter((to) => to !== from).map((to): OpCase => ({
  name: `${from} -> ${to}`,
  op: 'Cast',
  attrs: { to: onnxTypeCode(to) },
  inputs: [t(from, [5, 13], RANGE[from])],
  wasmKernel: WASM_TYPES.includes(from) && WASM_TYPES.includes(to),
})));

// the vec4 form (element count % 4 == 0): a sample of pairs, and the specials below
const vec4Pairs = ([['float32', 'float16'], ['float32', 'uint8'], ['float32', 'bool'], ['int8', 'float32'], ['float16', 'int32'], ['uint32', 'int8']] as const).map(([from, to]): OpCase => ({
  name: `${from} -> ${to} vec4 form`, op: 'Cast', attrs: { to: onnxTypeCode(to) }, inputs: [t(from, [4, 16], RANGE[from])],
}));

const cases: OpCase[] = [
  ...vec4Pairs,
  { name: 'float32 -> float16 overflow and specials vec4 form', op: 'Cast', attrs: { to: onnxTypeCode('float16') }, inputs: [{ dtype: 'float32', dims: [8], values: [70000, -70000, 65519, 1e-8, NaN, 0.1, -0, 65504], feed: true }] },
  ...pairs,
  { name: 'float32 -> float16 overflow and specials', op: 'Cast', attrs: { to: onnxTypeCode('float16') }, inputs: [{ dtype: 'float32', dims: [6], values: [70000, -70000, 65519, 1e-8, NaN, 0.1], feed: true }] },
  { name: 'float32 -> int32 negative fractions', op: 'Cast', attrs: { to: onnxTypeCode('int32') }, inputs: [{ dtype: 'float32', dims: [4], values: [-0.5, -1.9, 2.9, 0], feed: true }] },
  { name: 'float32 -> uint8 wraps negatives', op: 'Cast', attrs: { to: onnxTypeCode('uint8') }, inputs: [{ dtype: 'float32', dims: [4], values: [-3.5, 300.7, 255, 0.2], feed: true }] },
  { name: 'float32 -> bool NaN is true', op: 'Cast', attrs: { to: onnxTypeCode('bool') }, inputs: [{ dtype: 'float32', dims: [3], values: [NaN, 0, -0.1], feed: true }] },
  { name: 'rank 0', op: 'Cast', attrs: { to: onnxTypeCode('int32') }, inputs: [t('float32', [], [-9, 9])] },
  { name: 'large (2-D dispatch)', op: 'Cast', attrs: { to: onnxTypeCode('int32') }, inputs: [t('float32', [2100, 2048], [-50, 50])] },
  { name: 'same type', op: 'Cast', attrs: { to: onnxTypeCode('float32') }, inputs: [t('float32', [7])] },
  { name: 'CastLike float32 -> int8', op: 'CastLike', inputs: [t('float32', [20], [-200, 200]), t('int8', [1])] },
  { name: 'CastLike int32 -> float16', op: 'CastLike', inputs: [t('int32', [20], [-5000, 5000]), t('float16', [2])] },
  // wasm float16 (kernels/wasm/src/cast.c): odd sizes; overflow to inf, ties to even, subnormals, NaN, -0
  { name: 'float32 -> float16 wasm specials', op: 'Cast', attrs: { to: onnxTypeCode('float16') }, wasmKernel: true, inputs: [{ dtype: 'float32', feed: true, dims: [17],
    values: [70000, -65520, 65519, 65504, 2 ** -24, 2 ** -25, 3 * 2 ** -25, -(2 ** -26), 1e-8, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 6.1e-5, NaN, Infinity, -0, 0.1, -2049] }] },
  { name: 'float16 -> float32 wasm specials', op: 'Cast', attrs: { to: onnxTypeCode('float32') }, wasmKernel: true, inputs: [{ dtype: 'float16', feed: true, dims: [11],
    values: [65504, -65504, 2 ** -24, -(2 ** -24), 2 ** -14, 1023 * 2 ** -24, NaN, -Infinity, Infinity, -0, 0.333251953125] }] },
  { name: 'float16 -> float32 wasm odd 3-D', op: 'Cast', attrs: { to: onnxTypeCode('float32') }, wasmKernel: true, inputs: [t('float16', [3, 5, 7], [-70000, 70000])] },
  { name: 'float32 -> float16 wasm odd 3-D', op: 'Cast', attrs: { to: onnxTypeCode('float16') }, wasmKernel: true, inputs: [t('float32', [3, 5, 7], [-1e-3, 1e-3])] },
  { name: 'int64 -> float16 wasm', op: 'Cast', attrs: { to: onnxTypeCode('float16') }, wasmKernel: true, inputs: [t('int64', [29], [-70000, 70000])] },
  // float64 and string have no GPU storage: these run on the CPU by design (checked for no crash)
  { name: 'float32 -> float64', op: 'Cast', attrs: { to: onnxTypeCode('float64') }, inputs: [t('float32', [9])], gpu: false },
  { name: 'int32 -> string', op: 'Cast', attrs: { to: onnxTypeCode('string') }, inputs: [t('int32', [9])], gpu: false },
  { name: 'float32 -> string', op: 'Cast', attrs: { to: onnxTypeCode('string') }, inputs: [t('float32', [9])], gpu: false },
];

runOpCases('cast', cases);

runBadInputCases('cast', [
  { name: "Cast without 'to'", op: 'Cast', inputs: [t('float32', [3])], error: /needs the 'to' attribute/ },
]);
