import { activationOf } from '../common/activation.ts';
import { convGeometry } from '../common/conv-attributes.ts';
import { toNumbers } from '../common/values.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { packedBBytes, type WasmKernel, type WasmKernels } from '../wasm/contract.ts';
import { wasmEpilogue } from '../wasm/epilogue.ts';

/**
 * ConvTranspose on float32, 1-D and 2-D, as MLAS does it: per image and group, col = W_g^T x X_g
 * (the wasm GEMM: W_g^T [Cout_g * taps, Cin_g] is A, X_g [Cin_g, IH * IW] packed as B), then
 * col2im scatters col into Y (kernels/wasm/src/conv-f32.c) starting from the bias. W^T is made
 * once at plan time when W is a constant, else per run into scratch. 3-D declines (runs js).
 */
const convTranspose: WasmKernel = (inputs, outputs, ctx) => {
  const [x, w, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  if (x.dtype !== 'float32' || w.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  const { geo: g } = convGeometry(inputs, ctx, true);
  const s = g.inDims.length;
  if (s !== 1 && s !== 2) return undefined;
  const out = outputs[0]!;
  const outFloats = out.dims.reduce((a, d) => a * d, 1);
  if (outFloats === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const two = (v: readonly number[], one: number): [number, number] => (s === 2 ? [v[0]!, v[1]!] : [one, v[0]!]);
  const [ih, iw] = two(g.inDims, 1);
  const [oh, ow] = two(g.outDims, 1);
  const [kh, kw] = two(g.kernel, 1);
  const [sh, sw] = two(g.strides, 1);
  const [ph, pw] = two(g.padBegin, 0);
  const [dh, dw] = two(g.dilations, 1);
  const T = kh * kw;
  const rows = g.coutG * T; // rows of col per group
  const inS = ih * iw;
  const wFloats = g.group * g.cinG * rows;
  const epilogue = wasmEpilogue(activationOf(ctx.attrs));
  const [flags, lo, hi] = epilogue.clamp;
  const wConst = ctx.constants[1];

  /** W [Cin][Cout_g * taps] -> per group W_g^T [Cout_g * taps][Cin_g], contiguous by group. */
  const transposeInto = (src: ArrayLike<number>, dst: Float32Array): void => {
    for (let gr = 0; gr < g.group; gr++) {
      for (let ci = 0; ci < g.cinG; ci++) {
        for (let r = 0; r < rows; r++) dst[gr * rows * g.cinG + r * g.cinG + ci] = src[(gr * g.cinG + ci) * rows + r]!;
      }
    }
  };
  const packed = packedBBytes(g.cinG, inS);
  const colBytes = rows * inS * 4;
  const wtScratch = wConst ? 0 : wFloats * 4;
  const f32 = (k: WasmKernels, at: number, n: number): Float32Array => new Float32Array(k.memory.buffer, at, n);

  return {
    reads: [0, ...(wConst ? [] : [1]), ...(bias ? [2] : [])],
    scratchBytes: packed + colBytes + wtScratch,
    persistentBytes: wConst ? [wFloats * 4] : [],
    prepare: wConst ? (k, at) => transposeInto(toNumbers(wConst), f32(k, at.persistent[0]!, wFloats)) : undefined,
    run(k, at) {
      const packAt = at.scratch;
      const colAt = packAt + packed;
      let wtAt: number;
      if (wConst) wtAt = at.persistent[0]!;
      else {
        wtAt = colAt + colBytes;
        transposeInto(f32(k, at.inputs[1]!, wFloats), f32(k, wtAt, wFloats));
      }
      const col2im = k.fn('kiln_col2im_f32');
      for (let n = 0; n < g.batch; n++) {
        for (let gr = 0; gr < g.group; gr++) {
          const ng = n * g.group + gr;
          k.packBF32({ b: at.inputs[0]! + ng * g.cinG * inS * 4, ldb: Math.max(1, inS), k: g.cinG, n: inS, out: packAt });
          k.gemmF32({ a: wtAt + gr * rows * g.cinG * 4, lda: Math.max(1, g.cinG), bPacked: packAt, c: colAt, ldc: Math.max(1, inS), m: rows, n: inS, k: g.cinG });
          col2im(colAt, bias ? at.inputs[2]! + gr * g.coutG * 4 : 0, at.outputs[0]! + ng * g.coutG * oh * ow * 4, g.coutG, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, flags, lo, hi);
        }
      }
      epilogue.after(k, at.outputs[0]!, outFloats);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'ConvTranspose')]: convTranspose };
