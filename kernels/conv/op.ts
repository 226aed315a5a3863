import type { AnyTensor } from '../../core/tensor.ts';
import { activationOf, applyActivation } from '../common/activation.ts';
import { epilogueDims, epilogueOf, prologueOf, requirePrologueX, withEpilogue, withPrologue } from '../fused-elementwise/epilogue.ts';
import { convGeometry } from '../common/conv-attributes.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, OpDefinition } from '../contract.ts';

/**
 * Conv and ConvTranspose: one definition, the geometry in kernels/common/conv-attributes.ts.
 * Implementations: js.ts (im2col + blocked GEMM, col2im for ConvTranspose, a tap loop for
 * depthwise) and webgpu-program.ts (implicit GEMM); conv-transpose/ files register them.
 */

const size = (d: readonly number[]): number => d.reduce((p, v) => p * v, 1);

/**
 * The plain reference: for every output element, a float64 sum over input channels and kernel
 * taps of the direct loop nest. ConvTranspose gathers: output position o reads input
 * (o + pad - k * dilation) / stride where that is a whole, in-range index.
 */
function reference(transpose: boolean): CpuKernel {
  return (inputs, ctx): AnyTensor[] => {
    // a fake quantization of X the WebGPU fusion pass folded into the load (Conv only)
    const [xt, wt, bt] = [transpose ? inputs[0]! : withPrologue(prologueOf(ctx.attrs, ctx.node), inputs[0]!, ctx.node), inputs[1]!, inputs[2]];
    const { geo: g, out } = convGeometry([metaOf(xt), metaOf(wt), bt && metaOf(bt)], ctx, transpose);
    const [x, w] = [toNumbers(xt), toNumbers(wt)];
    const b = bt && toNumbers(bt);
    const act = activationOf(ctx.attrs);
    // a FusedElementwise tail the WebGPU fusion pass folded in (Conv only)
    const epi = transpose ? undefined : epilogueOf(ctx.attrs, ctx.node);
    const s = g.inDims.length;
    const S = size(g.outDims);
    const inS = size(g.inDims);
    const T = size(g.kernel);
    const cout = g.coutG * g.group;
    const y = new Float64Array(size(out.dims));
    const o = new Array<number>(s);
    const k = new Array<number>(s);
    for (let n = 0; n < g.batch; n++) {
      for (let co = 0; co < cout; co++) {
        const grp = Math.floor(co / g.coutG);
        for (let sp = 0; sp < S; sp++) {
          for (let d = s - 1, r = sp; d >= 0; d--, r = Math.floor(r / g.outDims[d + 1]!)) o[d] = r % g.outDims[d]!;
          let acc = b ? b[co]! : 0;
          for (let ci = 0; ci < g.cinG; ci++) {
            for (let t = 0; t < T; t++) {
              for (let d = s - 1, r = t; d >= 0; d--, r = Math.floor(r / g.kernel[d + 1]!)) k[d] = r % g.kernel[d]!;
              let off = 0;
              let inside = true;
              for (let d = 0; d < s; d++) {
                let pos: number;
                if (g.transpose) {
                  const q = o[d]! + g.padBegin[d]! - k[d]! * g.dilations[d]!;
                  pos = q % g.strides[d]! === 0 ? q / g.strides[d]! : -1;
                } else pos = o[d]! * g.strides[d]! - g.padBegin[d]! + k[d]! * g.dilations[d]!;
                if (pos < 0 || pos >= g.inDims[d]!) inside = false;
                off = off * g.inDims[d]! + pos;
              }
              if (!inside) continue;
              const cg = grp * g.cinG + ci;
              // Conv W is [Cout][Cin/group][taps]; ConvTranspose W is [Cin][Cout/group][taps]
              const wv = g.transpose ? w[(cg * g.coutG + (co - grp * g.coutG)) * T + t]! : w[(co * g.cinG + ci) * T + t]!;
              acc += x[(n * g.group * g.cinG + cg) * inS + off]! * wv;
            }
          }
          y[(n * cout + co) * S + sp] = applyActivation(act, acc);
        }
      }
    }
    const dims = transpose ? out.dims : epilogueDims(out.dims, inputs.map((t) => t && metaOf(t)), ctx);
    return [fromNumbers(out.dtype, dims, withEpilogue(epi, y, out.dims, inputs))];
  };
}

export function convDefinition(transpose: boolean): OpDefinition {
  return {
    opType: transpose ? 'ConvTranspose' : 'Conv',
    inferOutputs: (inputs, ctx) => {
      const { out } = convGeometry(inputs, ctx, transpose);
      if (!transpose) requirePrologueX(prologueOf(ctx.attrs, ctx.node), inputs[0]?.dtype, ctx.node);
      // a FusedElementwise tail the WebGPU fusion pass folded in may read more tensors (epilogue.ts)
      return [transpose ? out : { ...out, dims: epilogueDims(out.dims, inputs, ctx) }];
    },
    reference: reference(transpose),
  };
}

export const definitions: readonly OpDefinition[] = [convDefinition(false)];
