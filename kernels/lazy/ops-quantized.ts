// Lazy op group 'quantized': int8/int4 models: Q/DQ, integer and QLinear ops, MatMulNBits, and what the QDQ passes lower them to. Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as quantizeLinear } from '../quantize-linear/op.ts';
import { js as quantizeLinearJs } from '../quantize-linear/js.ts';
import { webgpu as quantizeLinearWebGpu } from '../quantize-linear/webgpu.ts';
import { definitions as matmulInteger } from '../matmul-integer/op.ts';
import { webgpu as matmulIntegerWebGpu } from '../matmul-integer/webgpu.ts';
import { definitions as qlinearMatmul } from '../qlinear-matmul/op.ts';
import { webgpu as qlinearMatmulWebGpu } from '../qlinear-matmul/webgpu.ts';
import { definitions as convInteger } from '../conv-integer/op.ts';
import { js as convIntegerJs } from '../conv-integer/js.ts';
import { webgpu as convIntegerWebGpu } from '../conv-integer/webgpu.ts';
import { definitions as qlinearConv } from '../qlinear-conv/op.ts';
import { js as qlinearConvJs } from '../qlinear-conv/js.ts';
import { webgpu as qlinearConvWebGpu } from '../qlinear-conv/webgpu.ts';
import { definitions as qlinearBinary } from '../qlinear-binary/op.ts';
import { webgpu as qlinearBinaryWebGpu } from '../qlinear-binary/webgpu.ts';
import { definitions as matmulNbits } from '../matmul-nbits/op.ts';
import { js as matmulNbitsJs } from '../matmul-nbits/js.ts';
import { webgpu as matmulNbitsWebGpu } from '../matmul-nbits/webgpu.ts';
import { definitions as dequantConv } from '../dequant-conv/op.ts';
import { js as dequantConvJs } from '../dequant-conv/js.ts';
import { webgpu as dequantConvWebGpu } from '../dequant-conv/webgpu.ts';
import { definitions as quantizeDequantize } from '../quantize-dequantize/op.ts';
import { js as quantizeDequantizeJs } from '../quantize-dequantize/js.ts';
import { webgpu as quantizeDequantizeWebGpu } from '../quantize-dequantize/webgpu.ts';
import { definitions as gatherBlockQuantized } from '../gather-block-quantized/op.ts';
import { js as gatherBlockQuantizedJs } from '../gather-block-quantized/js.ts';
import { webgpu as gatherBlockQuantizedWebGpu } from '../gather-block-quantized/webgpu.ts';
import { definitions as qlinearLookup } from '../qlinear-lookup/op.ts';
import { js as qlinearLookupJs } from '../qlinear-lookup/js.ts';
import { webgpu as qlinearLookupWebGpu } from '../qlinear-lookup/webgpu.ts';
import { definitions as qlinearExcite } from '../qlinear-excite/op.ts';

export const group: LazyOpGroup = {
  definitions: [...quantizeLinear, ...matmulInteger, ...qlinearMatmul, ...convInteger, ...qlinearConv, ...qlinearBinary, ...matmulNbits, ...dequantConv, ...quantizeDequantize, ...gatherBlockQuantized, ...qlinearLookup, ...qlinearExcite],
  js: [quantizeLinearJs, convIntegerJs, qlinearConvJs, matmulNbitsJs, dequantConvJs, quantizeDequantizeJs, gatherBlockQuantizedJs, qlinearLookupJs],
  webgpu: [quantizeLinearWebGpu, matmulIntegerWebGpu, qlinearMatmulWebGpu, convIntegerWebGpu, qlinearConvWebGpu, qlinearBinaryWebGpu, matmulNbitsWebGpu, dequantConvWebGpu, quantizeDequantizeWebGpu, gatherBlockQuantizedWebGpu, qlinearLookupWebGpu],
};
