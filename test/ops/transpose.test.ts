import { runBadInputCases } from './op-errors.ts';
import { runOpCases, withHardwareTuning, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  { name: 'Transpose wasm uint8 odd 3-D', op: 'Transpose', attrs: { perm: [2, 0, 1] }, inputs: [{ dtype: 'uint8', dims: [3, 5, 7], range: [0, 256] }], wasmKernel: true },
  { name: 'Transpose wasm int8 4-D', op: 'Transpose', attrs: { perm: [0, 2, 3, 1] }, inputs: [{ dtype: 'int8', dims: [2, 3, 5, 7], range: [-128, 128] }], wasmKernel: true },
  { name: 'Transpose wasm bool', op: 'Transpose', inputs: [{ dtype: 'bool', dims: [17, 19] }], wasmKernel: true },
  { name: 'Transpose default (reverse)', op: 'Transpose', inputs: [f32([2, 3, 4])] },
  { name: 'Transpose rank 1', op: 'Transpose', inputs: [f32([7])] },
  { name: 'Transpose scalar', op: 'Transpose', inputs: [f32([])] },
  { name: 'Transpose 4-D perm', op: 'Transpose', attrs: { perm: [2, 0, 3, 1] }, inputs: [f32([2, 3, 4, 5])] },
  { name: 'Transpose small 2-D (gather path)', op: 'Transpose', inputs: [f32([5, 7])] },
  { name: 'Transpose 2-D tiled, ragged edges', op: 'Transpose', inputs: [f32([37, 53])] },
  { name: 'Transpose batched swap tiled', op: 'Transpose', attrs: { perm: [0, 2, 1] }, inputs: [f32([3, 20, 33])] },
  { name: 'Transpose NCHW->NHWC tiled', op: 'Transpose', attrs: { perm: [0, 2, 3, 1] }, inputs: [f32([2, 20, 6, 7])] },
  { name: 'Transpose NHWC->NCHW tiled', op: 'Transpose', attrs: { perm: [0, 3, 1, 2] }, inputs: [f32([2, 6, 7, 20])] },
  { name: 'Transpose int32', op: 'Transpose', attrs: { perm: [1, 0, 2] }, inputs: [{ dtype: 'int32', dims: [3, 4, 5] }] },
  { name: 'Transpose bool', op: 'Transpose', inputs: [{ dtype: 'bool', dims: [17, 19] }] },
  { name: 'Transpose int64 tiled', op: 'Transpose', inputs: [{ dtype: 'int64', dims: [18, 40] }] },
  { name: 'Transpose float16', op: 'Transpose', attrs: { perm: [1, 2, 0] }, inputs: [{ dtype: 'float16', dims: [3, 4, 5] }] },
  { name: 'Transpose large (2-D dispatch)', op: 'Transpose', attrs: { perm: [1, 0, 2] }, inputs: [f32([3, 1100, 1300])] },
  { name: 'Transpose large tiled', op: 'Transpose', inputs: [f32([1030, 4100])] },
  { name: 'DepthToSpace DCR', op: 'DepthToSpace', attrs: { blocksize: 2 }, inputs: [f32([2, 8, 3, 5])] },
  { name: 'DepthToSpace CRD', op: 'DepthToSpace', attrs: { blocksize: 2, mode: 'CRD' }, inputs: [f32([2, 8, 3, 5])] },
  { name: 'DepthToSpace blocksize 3', op: 'DepthToSpace', attrs: { blocksize: 3 }, inputs: [f32([1, 18, 2, 2])] },
  { name: 'SpaceToDepth', op: 'SpaceToDepth', attrs: { blocksize: 2 }, inputs: [f32([2, 3, 4, 6])] },
  { name: 'SpaceToDepth int32', op: 'SpaceToDepth', attrs: { blocksize: 3 }, inputs: [{ dtype: 'int32', dims: [1, 2, 6, 3] }] },
  // The wasm kernel (kernels/wasm/src/transpose.c): each inner-loop form, with tails
  { name: 'Transpose wasm heads split (contiguous rows)', op: 'Transpose', attrs: { perm: [0, 2, 1, 3] }, inputs: [f32([1, 7, 3, 13])], wasmKernel: true },
  { name: 'Transpose wasm keys (4x4 tiles, ragged edges)', op: 'Transpose', attrs: { perm: [0, 2, 3, 1] }, inputs: [f32([1, 9, 3, 11])], wasmKernel: true },
  { name: 'Transpose wasm 2-D tiles', op: 'Transpose', inputs: [f32([37, 53])], wasmKernel: true },
  { name: 'Transpose wasm gather (no contiguous axis inside)', op: 'Transpose', attrs: { perm: [1, 3, 0, 2] }, inputs: [f32([2, 3, 4, 5])], wasmKernel: true },
  { name: 'Transpose wasm scalar', op: 'Transpose', inputs: [f32([])], wasmKernel: true },
  { name: 'Transpose wasm size-1 axes', op: 'Transpose', attrs: { perm: [3, 1, 2, 0] }, inputs: [f32([1, 5, 1, 6])], wasmKernel: true },
  { name: 'DepthToSpace wasm (rank 6 walk)', op: 'DepthToSpace', attrs: { blocksize: 2 }, inputs: [f32([2, 8, 3, 5])], wasmKernel: true },
  { name: 'SpaceToDepth wasm', op: 'SpaceToDepth', attrs: { blocksize: 2 }, inputs: [f32([1, 3, 6, 10])], wasmKernel: true },
  { name: 'Transpose wasm int64 keys', op: 'Transpose', attrs: { perm: [0, 2, 3, 1] }, inputs: [{ dtype: 'int64', dims: [1, 5, 3, 7], range: [-1e9, 1e9] }], wasmKernel: true },
  { name: 'Transpose wasm int32 2-D tiles', op: 'Transpose', inputs: [{ dtype: 'int32', dims: [9, 13], range: [-1e9, 1e9] }], wasmKernel: true },
];

// A batched swap of two dimensions of at least 16: the shared-memory tile on hardware adapters, the
// plain gather on software ones (SwiftShader: 1.5 -> 0.1 ms on the demo MNIST CNN's flatten); both, every run
const tiledSwap: OpCase[] = [{ name: 'Transpose float32 batched swap, tails of 16', op: 'Transpose', attrs: { perm: [0, 2, 1] }, inputs: [f32([2, 33, 49])] }];

runOpCases('transpose', [...cases, ...tiledSwap, ...withHardwareTuning(tiledSwap)]);

runBadInputCases('transpose', [
  { name: 'perm not a permutation', op: 'Transpose', attrs: { perm: [0, 0, 1] }, inputs: [f32([2, 3, 4])], error: /perm \[0, 0, 1\] is not a permutation of rank 3/ },
  { name: 'perm wrong length', op: 'Transpose', attrs: { perm: [1, 0] }, inputs: [f32([2, 3, 4])], error: /not a permutation of rank 3/ },
  { name: 'DepthToSpace channels', op: 'DepthToSpace', attrs: { blocksize: 2 }, inputs: [f32([1, 6, 2, 2])], error: /channels 6 are not divisible by blocksize\^2 = 4/ },
  { name: 'SpaceToDepth spatial', op: 'SpaceToDepth', attrs: { blocksize: 2 }, inputs: [f32([1, 1, 3, 2])], error: /spatial dims 3x2 are not divisible by blocksize 2/ },
  { name: 'DepthToSpace rank', op: 'DepthToSpace', attrs: { blocksize: 2 }, inputs: [f32([4, 2, 2])], error: /rank 3, expected 4/ },
]);
