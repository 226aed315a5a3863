import type { AnyTensor } from '../../core/tensor.ts';
import { broadcastIndexMap, broadcastShapes, FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * SwiGLU (opset 28): Swish(A, alpha) * B = A * sigmoid(alpha * A) * B, A and B broadcasting like Mul,
 * which is the op's ONNX function body (Swish then Mul). The reference runs on the CPU in every
 * session; graphs that spell it as Swish and Mul (older exports) keep their GPU kernels.
 */

function swigluOutput(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  requireType(a, FLOAT_TYPES, ctx, 'A');
  requireType(b, [a.dtype], ctx, 'B');
  return { dtype: a.dtype, dims: broadcastShapes([a.dims, b.dims], ctx) };
}

const swiglu: OpDefinition = {
  opType: 'SwiGLU',
  inferOutputs: (inputs, ctx) => [swigluOutput(inputs, ctx)],
  reference(inputs, ctx): AnyTensor[] {
    const [at, bt] = [inputs[0]!, inputs[1]!];
    const out = swigluOutput([metaOf(at), metaOf(bt)], ctx);
    const alpha = ctx.attrs.float('alpha', 1)!;
    const [a, b] = [toNumbers(at), toNumbers(bt)];
    const [aAt, bAt] = [broadcastIndexMap(out.dims, at.dims), broadcastIndexMap(out.dims, bt.dims)];
    const y = Float64Array.from({ length: out.dims.reduce((p, d) => p * d, 1) }, (_, i) => {
      const x = a[aAt ? aAt[i]! : i]!;
      return (x / (1 + Math.exp(-alpha * x))) * b[bAt ? bAt[i]! : i]!;
    });
    return [fromNumbers(out.dtype, out.dims, y)];
  },
};

export const definitions: readonly OpDefinition[] = [swiglu];
