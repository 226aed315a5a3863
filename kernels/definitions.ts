// Every op's definition, in one typed registry. Adding an op family: a folder with op.ts (definitions
// and references) and its implementations (js.ts, wasm.ts, webgpu.ts), one line here and one in each
// backend's table it implements, and its test data.
import type { OpDefinition } from './contract.ts';
import { opKey } from './contract.ts';
import { definitions as elementwiseBinary } from './elementwise-binary/op.ts';
import { definitions as elementwiseUnary } from './elementwise-unary/op.ts';
import { definitions as cast } from './cast/op.ts';
import { definitions as where } from './where/op.ts';
import { definitions as variadic } from './variadic/op.ts';
import { definitions as matmul } from './matmul/op.ts';
import { definitions as gemm } from './gemm/op.ts';
import { definitions as conv } from './conv/op.ts';
import { definitions as convTranspose } from './conv-transpose/op.ts';
import { definitions as pool } from './pool/op.ts';
import { definitions as normalization } from './normalization/op.ts';
import { definitions as softmax } from './softmax/op.ts';
import { definitions as reduce } from './reduce/op.ts';
import { definitions as reshape } from './reshape/op.ts';
import { definitions as transpose } from './transpose/op.ts';
import { definitions as concat } from './concat/op.ts';
import { definitions as split } from './split/op.ts';
import { definitions as slice } from './slice/op.ts';
import { definitions as gather } from './gather/op.ts';
import { definitions as expand } from './expand/op.ts';
import { definitions as constant } from './constant/op.ts';
import { definitions as pad } from './pad/op.ts';
import { definitions as resize } from './resize/op.ts';
import { definitions as tile } from './tile/op.ts';
import { definitions as shape } from './shape/op.ts';
import { definitions as quantizeLinear } from './quantize-linear/op.ts';
import { definitions as matmulInteger } from './matmul-integer/op.ts';
import { definitions as qlinearMatmul } from './qlinear-matmul/op.ts';
import { definitions as convInteger } from './conv-integer/op.ts';
import { definitions as qlinearConv } from './qlinear-conv/op.ts';
import { definitions as qlinearBinary } from './qlinear-binary/op.ts';
import { definitions as matmulNbits } from './matmul-nbits/op.ts';
import { definitions as dequantConv } from './dequant-conv/op.ts';
import { definitions as quantizeDequantize } from './quantize-dequantize/op.ts';
import { definitions as qlinearLookup } from './qlinear-lookup/op.ts';
import { definitions as fusedNorm } from './fused-norm/op.ts';
import { definitions as biasActivation } from './bias-activation/op.ts';
import { definitions as embedLayerNorm } from './embed-layer-norm/op.ts';
import { definitions as gatherBlockQuantized } from './gather-block-quantized/op.ts';
import { definitions as rotaryEmbedding } from './rotary-embedding/op.ts';
import { definitions as attention } from './attention/op.ts';
import { definitions as cumsum } from './cumsum/op.ts';
import { definitions as trilu } from './trilu/op.ts';
import { definitions as scatter } from './scatter/op.ts';
import { definitions as einsum } from './einsum/op.ts';
import { definitions as signal } from './signal/op.ts';
import { definitions as topk } from './topk/op.ts';
import { definitions as oneHot } from './one-hot/op.ts';
import { definitions as dropout } from './dropout/op.ts';
import { definitions as dynamicShape } from './dynamic-shape/op.ts';
import { definitions as gridSample } from './grid-sample/op.ts';
import { definitions as lrn } from './lrn/op.ts';
import { definitions as nonMaxSuppression } from './non-max-suppression/op.ts';
import { definitions as roiAlign } from './roi-align/op.ts';
import { definitions as rnn } from './rnn/op.ts';
import { definitions as tensorScatter } from './tensor-scatter/op.ts';
import { definitions as centerCropPad } from './center-crop-pad/op.ts';
import { definitions as reverseSequence } from './reverse-sequence/op.ts';

export const definitions: readonly OpDefinition[] = [
  ...elementwiseBinary,
  ...elementwiseUnary,
  ...cast,
  ...where,
  ...variadic,
  ...matmul,
  ...gemm,
  ...conv,
  ...convTranspose,
  ...pool,
  ...normalization,
  ...softmax,
  ...reduce,
  ...reshape,
  ...transpose,
  ...concat,
  ...split,
  ...slice,
  ...gather,
  ...expand,
  ...constant,
  ...pad,
  ...resize,
  ...tile,
  ...shape,
  ...quantizeLinear,
  ...matmulInteger,
  ...qlinearMatmul,
  ...convInteger,
  ...qlinearConv,
  ...qlinearBinary,
  ...matmulNbits,
  ...dequantConv,
  ...quantizeDequantize,
  ...qlinearLookup,
  ...fusedNorm,
  ...biasActivation,
  ...embedLayerNorm,
  ...gatherBlockQuantized,
  ...rotaryEmbedding,
  ...attention,
  ...cumsum,
  ...trilu,
  ...scatter,
  ...einsum,
  ...signal,
  ...topk,
  ...oneHot,
  ...dropout,
  ...dynamicShape,
  ...gridSample,
  ...lrn,
  ...nonMaxSuppression,
  ...roiAlign,
  ...rnn,
  ...tensorScatter,
  ...centerCropPad,
  ...reverseSequence,
];

const byKey = new Map<string, OpDefinition>();
for (const d of definitions) {
  const key = opKey(d.domain, d.opType);
  if (byKey.has(key)) throw new Error(`op ${key} defined twice`);
  byKey.set(key, d);
}

export function resolveDefinition(domain: string, opType: string): OpDefinition | undefined {
  return byKey.get(opKey(domain, opType));
}
