import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { requireInput } from '../common/shape.ts';
import { hostFloats, hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Dropout at inference: the output is the input and the optional mask is all true. Training mode
 * (the opset-12 `training_mode` input, or is_test = 0 before opset 7) drops at random: Kiln
 * cannot reproduce onnxruntime's random stream, so it is refused at load, except with ratio 0,
 * where training mode drops nothing either.
 */

export function dropoutMetas(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  const training = ctx.opset >= 12 ? (inputs[2] ? hostInts(ctx, 2)?.[0] : 0) : ctx.opset < 7 ? 1 - ctx.attrs.int('is_test', 0) : 0;
  if (training === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': Dropout needs the value of training_mode`);
  const ratio = ctx.opset >= 12 ? (inputs[1] ? hostFloats(ctx, 1)?.[0] : 0.5) : ctx.attrs.float('ratio', 0.5);
  if (ratio === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': Dropout needs the value of ratio`);
  if (training !== 0 && ratio !== 0) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': Dropout in training mode (ratio ${ratio}) drops at random; Kiln runs inference only`);
  return [{ dtype: x.dtype, dims: x.dims }, { dtype: 'bool', dims: x.dims }];
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Dropout',
    hostInputs: [1, 2],
    inferOutputs: (inputs, ctx) => dropoutMetas(inputs, ctx).slice(0, Math.max(1, ctx.outputCount ?? 1)),
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      dropoutMetas(inputs.map((t) => t && metaOf(t)), ctx);
      return [x, new Tensor('bool', new Uint8Array(x.size).fill(1), x.dims)];
    },
  },
];
