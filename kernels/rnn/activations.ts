import { fail } from '../../core/errors.ts';

/** The activation functions the RNN ops name in `activations`, with their alpha/beta defaults. */
type Activation = (x: number) => number;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const MAKERS: Readonly<Record<string, { params: number; defaults: readonly number[]; make: (a: number, b: number) => Activation }>> = {
  sigmoid: { params: 0, defaults: [], make: () => sigmoid },
  tanh: { params: 0, defaults: [], make: () => Math.tanh },
  relu: { params: 0, defaults: [], make: () => (x) => Math.max(0, x) },
  softsign: { params: 0, defaults: [], make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { params: 0, defaults: [], make: () => (x) => Math.log1p(Math.exp(x)) },
  affine: { params: 2, defaults: [1, 0], make: (a, b) => (x) => a * x + b },
  leakyrelu: { params: 1, defaults: [0.01], make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { params: 1, defaults: [1], make: (a) => (x) => (x > a ? x : 0) },
  scaledtanh: { params: 2, defaults: [1, 1], make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { params: 2, defaults: [0.2, 0.5], make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  elu: { params: 1, defaults: [1], make: (a) => (x) => (x >= 0 ? x : a * Math.expm1(x)) },
};

/**
 * Resolves `names` (case-insensitive), taking alpha/beta values in order for the functions that
 * have parameters, defaults for the rest of the list when alphas run out (onnxruntime's rule).
 */
export function resolveActivations(names: readonly string[], alphas: readonly number[], betas: readonly number[], where: string): Activation[] {
  let ai = 0;
  let bi = 0;
  return names.map((name) => {
    const m = MAKERS[name.toLowerCase()];
    if (!m) return fail('INVALID_GRAPH', `${where}: activation '${name}' is not one of ${Object.keys(MAKERS).join(', ')}`);
    const a = m.params >= 1 ? (alphas[ai++] ?? m.defaults[0]!) : 0;
    const b = m.params >= 2 ? (betas[bi++] ?? m.defaults[1]!) : 0;
    return m.make(a, b);
  });
}
