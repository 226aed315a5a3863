// Every op family file, in one list. Adding an op: write its file, add one line here, add its test data.
import type { OpKernel } from './types.ts';
import { kernels as elementwiseBinary } from './elementwise-binary.ts';

export const kernels: readonly OpKernel[] = [
  ...elementwiseBinary,
];
