import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { planResize, tapsOf, type ResizePlan } from './op.ts';

/**
 * One axis's taps as kiln_resize2d_f32 reads them (kernels/wasm/src/resize.c): i0[len], i1[len]
 * clamped source indices, then w0[len], w1[len] weights, from the op's own tapsOf, so every
 * coordinate mode and nearest rule is the reference's. Undefined where a tap set has more than 2
 * taps (cubic, antialias) or extrapolates (tf_crop_and_resize outside the roi).
 */
function axisTable(p: ResizePlan, d: number): Int32Array | undefined {
  const len = p.outDims[d]!;
  const n = p.inDims[d]!;
  const words = new Int32Array(4 * len);
  const weights = new Float32Array(words.buffer, 2 * len * 4, 2 * len);
  const clamp = (i: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);
  for (let o = 0; o < len; o++) {
    const taps = p.resized.includes(d) ? tapsOf(p, d, o) : { first: o, weights: [1] };
    if (!taps || taps.weights.length > 2) return undefined;
    words[o] = clamp(taps.first);
    words[len + o] = clamp(taps.first + taps.weights.length - 1);
    weights[o] = taps.weights[0]!;
    weights[len + o] = taps.weights[1] ?? 0;
  }
  return words;
}

/**
 * Resize/Upsample of float32 data, nearest or linear, where only the last two axes change (2-D
 * images [N,C,H,W], rows, 1-D): the other axes are planes. Scales or sizes must be known when the
 * plan is made; everything else runs js.
 */
function lowerResize(opType: string): WasmKernel {
  return (inputs, outputs, ctx) => {
    const x = inputs[0];
    if (x?.dtype !== 'float32' || x.dims.length === 0) return undefined;
    const hasScalesOrSizes = opType === 'Upsample' || ctx.opset < 11 ? ctx.host[1] !== undefined || ctx.opset < 9 : (ctx.host[2]?.size ?? 0) > 0 || (ctx.host[3]?.size ?? 0) > 0;
    if (!hasScalesOrSizes) return undefined;
    const p = planResize(opType, x, ctx);
    if (p.mode === 'cubic' || p.antialias || p.coord === 'tf_crop_and_resize') return undefined;
    const rank = x.dims.length;
    if (p.resized.some((d) => d < rank - 2)) return undefined;
    const out = outputs[0]!.dims;
    if (out.length !== rank || out.some((d, i) => d !== p.outDims[i]) || out.includes(0) || x.dims.includes(0)) return undefined;
    const hAxis = rank - 2; // -1 for 1-D: a single row
    const tabW = axisTable(p, rank - 1);
    const tabH = hAxis >= 0 ? axisTable(p, hAxis) : Int32Array.of(0, 0, 0x3f800000, 0); // one row, weight 1
    if (!tabW || !tabH) return undefined;
    const [inH, outH] = hAxis >= 0 ? [x.dims[hAxis]!, out[hAxis]!] : [1, 1];
    const [inW, outW] = [x.dims[rank - 1]!, out[rank - 1]!];
    const planes = x.dims.slice(0, Math.max(0, hAxis)).reduce((a, b) => a * b, 1);
    // a nearest 2x upscale of each row (FPN upsampling) duplicates lanes instead of gathering
    const doubles = outW === 2 * inW && Array.from({ length: outW }, (_, o) => tabW[o] === o >> 1).every(Boolean);
    const nearest = p.mode !== 'nearest' ? 0 : doubles ? 2 : 1;
    const tables = Int32Array.from([...tabH, ...tabW]); // one persistent region: H's table, then W's
    return singleExportStep('kiln_resize2d_f32', (at) => [at.inputs[0]!, at.outputs[0]!, planes, inH, inW, outH, outW, at.persistent[0]!, at.persistent[0]! + tabH.byteLength, nearest], {
      persistent: tables,
    });
  };
}

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'Resize')]: lowerResize('Resize'),
  [opKey('', 'Upsample')]: lowerResize('Upsample'),
};
