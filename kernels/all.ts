// Every op family file, in one list. Adding an op: write its file, add one line here, add its test data.
import type { OpKernel } from './types.ts';
import { kernels as elementwiseBinary } from './elementwise-binary.ts';
import { kernels as elementwiseUnary } from './elementwise-unary.ts';
import { kernels as cast } from './cast.ts';
import { kernels as where } from './where.ts';
import { kernels as variadic } from './variadic.ts';
import { kernels as matmul } from './matmul.ts';
import { kernels as gemm } from './gemm.ts';
import { kernels as conv } from './conv.ts';
import { kernels as convTranspose } from './conv-transpose.ts';
import { kernels as pool } from './pool.ts';
import { kernels as normalization } from './normalization.ts';
import { kernels as softmax } from './softmax.ts';
import { kernels as reduce } from './reduce.ts';
import { kernels as reshape } from './reshape.ts';
import { kernels as transpose } from './transpose.ts';
import { kernels as concat } from './concat.ts';
import { kernels as split } from './split.ts';
import { kernels as slice } from './slice.ts';
import { kernels as gather } from './gather.ts';
import { kernels as expand } from './expand.ts';
import { kernels as constant } from './constant.ts';
import { kernels as pad } from './pad.ts';
import { kernels as resize } from './resize.ts';
import { kernels as tile } from './tile.ts';
import { kernels as shape } from './shape.ts';
import { kernels as quantizeLinear } from './quantize-linear.ts';
import { kernels as matmulInteger } from './matmul-integer.ts';
import { kernels as qlinearMatmul } from './qlinear-matmul.ts';
import { kernels as convInteger } from './conv-integer.ts';
import { kernels as qlinearConv } from './qlinear-conv.ts';
import { kernels as matmulNBits } from './matmul-nbits.ts';
import { kernels as dequantConv } from './dequant-conv.ts';
import { kernels as quantizeDequantize } from './quantize-dequantize.ts';

export const kernels: readonly OpKernel[] = [
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
  ...matmulNBits,
  ...dequantConv,
  ...quantizeDequantize,
];
