import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { logistic, ML_DOMAIN, ML_NUMERIC_INPUTS, postTransformOf, probit, rowsOf, transformRow, type PostTransform } from '../ml-common/ml.ts';

/**
 * LinearRegressor and LinearClassifier (ai.onnx.ml 1): scores = X W^T + b in float32, then as
 * onnxruntime (linearclassifier.cc, ml_common.h batched_update_scores_inplace):
 * - LinearRegressor with one target: only PROBIT applies (the others need two scores);
 * - LinearClassifier with one coefficient row (it must have two class labels): the label is labels[1]
 *   when the score is > 0, else labels[0]; the scores are [logistic(-s), logistic(s)] for LOGISTIC,
 *   else [1 - s, s] (SOFTMAX and SOFTMAX_ZERO too), [probit(s), 0] for PROBIT;
 * - several classes: the first arg max; `multi_class` is read by no one (onnxruntime ignores it too).
 */

interface Linear {
  readonly coefficients: readonly number[];
  readonly intercepts: readonly number[];
  readonly targets: number;
  readonly post: PostTransform;
}

function linearOf(ctx: KernelContext, targetsAttr: number | undefined): Linear {
  const coefficients = ctx.attrs.floats('coefficients') ?? fail('INVALID_MODEL', `node '${ctx.node}': coefficients are missing`);
  const intercepts = ctx.attrs.floats('intercepts', []);
  const targets = targetsAttr ?? intercepts.length;
  if (!Number.isInteger(targets) || targets < 1) fail('INVALID_MODEL', `node '${ctx.node}': ${targetsAttr === undefined ? 'intercepts must not be empty' : `targets must be at least 1, got ${targets}`}`);
  if (intercepts.length !== 0 && intercepts.length !== targets) fail('INVALID_MODEL', `node '${ctx.node}': ${intercepts.length} intercepts for ${targets} targets`);
  if (coefficients.length % targets !== 0) fail('INVALID_MODEL', `node '${ctx.node}': ${coefficients.length} coefficients do not split into ${targets} rows`);
  return { coefficients, intercepts, targets, post: postTransformOf(ctx) };
}

function checkX(inputs: readonly MaybeMeta[], ctx: KernelContext, l: Linear, op: string): { n: number; c: number } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, ML_NUMERIC_INPUTS, ctx, 'X');
  const rows = rowsOf(x, ctx, op);
  if (rows.c * l.targets !== l.coefficients.length) fail('INVALID_GRAPH', `node '${ctx.node}': X has ${rows.c} features but the coefficients make ${l.targets} rows of ${l.coefficients.length / l.targets}`);
  return rows;
}

/** Raw scores [N, targets], each a float32 dot product plus its intercept. */
function scoresOf(l: Linear, xt: AnyTensor, rows: { n: number; c: number }): Float64Array {
  const x = toNumbers(xt).map(Math.fround);
  const out = new Float64Array(rows.n * l.targets);
  for (let i = 0; i < rows.n; i++) {
    for (let t = 0; t < l.targets; t++) {
      let s = 0;
      for (let j = 0; j < rows.c; j++) s += x[i * rows.c + j]! * l.coefficients[t * rows.c + j]!;
      out[i * l.targets + t] = Math.fround(Math.fround(s) + (l.intercepts[t] ?? 0));
    }
  }
  return out;
}

/** The transforms onnxruntime applies to rows of `width` scores (one score: PROBIT only). */
function transformAll(scores: Float64Array, width: number, post: PostTransform): void {
  if (width === 1) {
    if (post === 'PROBIT') for (let i = 0; i < scores.length; i++) scores[i] = probit(scores[i]!);
    return;
  }
  for (let i = 0; i < scores.length; i += width) {
    const row = scores.subarray(i, i + width);
    transformRow(row, post);
  }
}

const regressor: OpDefinition = {
  opType: 'LinearRegressor',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const l = linearOf(ctx, ctx.attrs.int('targets', 1));
    const { n } = checkX(inputs, ctx, l, 'LinearRegressor');
    return [{ dtype: 'float32', dims: [n, l.targets] }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const l = linearOf(ctx, ctx.attrs.int('targets', 1));
    const xt = inputs[0]!;
    const rows = checkX([{ dtype: xt.type, dims: xt.dims }], ctx, l, 'LinearRegressor');
    const s = scoresOf(l, xt, rows);
    transformAll(s, l.targets, l.post);
    return [fromNumbers('float32', [rows.n, l.targets], s)];
  },
};

function labelsOf(ctx: KernelContext): readonly number[] | readonly string[] {
  const ints = ctx.attrs.ints('classlabels_ints');
  const strings = ctx.attrs.strings('classlabels_strings');
  if ((ints === undefined || ints.length === 0) === (strings === undefined || strings.length === 0)) {
    fail('INVALID_MODEL', `node '${ctx.node}': exactly one of classlabels_ints and classlabels_strings must be set`);
  }
  return strings && strings.length > 0 ? strings : ints!;
}

function classifierShape(ctx: KernelContext): { l: Linear; labels: readonly number[] | readonly string[]; width: number; secondClass: boolean } {
  const l = linearOf(ctx, undefined);
  const labels = labelsOf(ctx);
  // one coefficient row is the binary form: onnxruntime wants exactly two labels for it
  if (l.targets === 1 ? labels.length !== 2 : labels.length !== l.targets) {
    fail('INVALID_MODEL', `node '${ctx.node}': ${l.targets} coefficient row${l.targets > 1 ? 's' : ''} for ${labels.length} class labels${l.targets === 1 ? ' (one row needs two labels)' : ''}`);
  }
  return { l, labels, width: l.targets === 1 ? 2 : l.targets, secondClass: l.targets === 1 };
}

const classifier: OpDefinition = {
  opType: 'LinearClassifier',
  domain: ML_DOMAIN,
  inferOutputs(inputs, ctx): TensorMeta[] {
    const { l, labels, width } = classifierShape(ctx);
    const { n } = checkX(inputs, ctx, l, 'LinearClassifier');
    return [{ dtype: typeof labels[0] === 'string' ? 'string' : 'int64', dims: [n] }, { dtype: 'float32', dims: [n, width] }];
  },
  reference(inputs, ctx): AnyTensor[] {
    const { l, labels, width, secondClass } = classifierShape(ctx);
    const xt = inputs[0]!;
    const rows = checkX([{ dtype: xt.type, dims: xt.dims }], ctx, l, 'LinearClassifier');
    const raw = scoresOf(l, xt, rows);
    const strings = typeof labels[0] === 'string';
    const picked: (number | string)[] = [];
    for (let i = 0; i < rows.n; i++) {
      if (l.targets === 1) {
        picked.push(labels[raw[i]! > 0 ? 1 : 0]!);
        continue;
      }
      let best = 0;
      for (let t = 1; t < l.targets; t++) if (raw[i * l.targets + t]! > raw[i * l.targets + best]!) best = t;
      picked.push(labels[best]!);
    }
    let scores: Float64Array;
    if (secondClass) {
      scores = new Float64Array(rows.n * 2);
      for (let i = 0; i < rows.n; i++) {
        const s = raw[i]!;
        // PROBIT: onnxruntime transforms the N packed scores in place and leaves the rest unwritten;
        // Kiln gives each row [probit(s), 0] (docs/decisions.md, "ml-ops")
        if (l.post === 'PROBIT') scores.set([probit(s), 0], i * 2);
        else if (l.post === 'LOGISTIC') scores.set([logistic(-s), logistic(s)], i * 2);
        else scores.set([Math.fround(1 - s), s], i * 2);
      }
    } else {
      scores = raw;
      transformAll(scores, width, l.post);
    }
    const label = strings
      ? new Tensor('string', picked as string[], [rows.n])
      : new Tensor('int64', BigInt64Array.from(picked as number[], (v) => BigInt(v)), [rows.n]);
    return [label, fromNumbers('float32', [rows.n, width], scores)];
  },
};

export const definitions: readonly OpDefinition[] = [regressor, classifier];
