import { fail } from '../../core/errors.ts';

/**
 * An Einsum equation resolved against its input shapes. Every axis gets a label id: letters keep
 * their character code; the axes an ellipsis stands for get ids 0..E-1 (right-aligned across
 * inputs, numpy-style broadcasting of size 1). The output lists labels (implicit form: ellipsis
 * axes, then the letters seen exactly once, in alphabetical order); every other label is summed.
 */
export interface EinsumPlan {
  /** per input, the label of each axis (a label repeated within one input takes the diagonal) */
  readonly inputs: readonly (readonly number[])[];
  readonly output: readonly number[];
  /** labels summed over (absent from the output), in first-seen order */
  readonly reduced: readonly number[];
  /** size of each label */
  readonly sizes: ReadonlyMap<number, number>;
  readonly outDims: readonly number[];
}

const ELLIPSIS = '...';

/** Splits one term into letters and at most one ellipsis marker (-1). */
function terms(term: string, where: string): number[] {
  const out: number[] = [];
  let rest = term;
  let ellipses = 0;
  while (rest.length) {
    if (rest.startsWith(ELLIPSIS)) {
      out.push(-1);
      ellipses++;
      rest = rest.slice(3);
      continue;
    }
    const c = rest[0]!;
    if (!/[A-Za-z]/.test(c)) fail('INVALID_GRAPH', `${where}: Einsum term '${term}' has '${c}' (labels are letters, plus one '...')`);
    out.push(c.charCodeAt(0));
    rest = rest.slice(1);
  }
  if (ellipses > 1) fail('INVALID_GRAPH', `${where}: Einsum term '${term}' has more than one '...'`);
  return out;
}

export function planEinsum(equation: string, shapes: readonly (readonly number[])[], where: string): EinsumPlan {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow < 0 ? eq : eq.slice(0, arrow);
  const rhs = arrow < 0 ? undefined : eq.slice(arrow + 2);
  const inTerms = lhs.split(',').map((t) => terms(t, where));
  if (inTerms.length !== shapes.length) fail('INVALID_GRAPH', `${where}: Einsum equation '${equation}' names ${inTerms.length} inputs, the node has ${shapes.length}`);

  // How many axes the ellipsis stands for: the most any input needs.
  let ellipsisRank = 0;
  inTerms.forEach((t, i) => {
    const letters = t.filter((x) => x >= 0).length;
    const rank = shapes[i]!.length;
    const has = t.includes(-1);
    if (has ? rank < letters : rank !== letters) fail('INVALID_GRAPH', `${where}: Einsum term ${i} of '${equation}' has ${letters} labels${has ? ' and ...' : ''} but input ${i} has rank ${rank}`);
    if (has) ellipsisRank = Math.max(ellipsisRank, rank - letters);
  });

  const sizes = new Map<number, number>();
  const setSize = (label: number, d: number, broadcastable: boolean): void => {
    const seen = sizes.get(label);
    if (seen === undefined || (broadcastable && seen === 1)) sizes.set(label, d);
    else if (seen !== d && !(broadcastable && d === 1)) {
      const name = label >= 0 && label < ellipsisRank ? `ellipsis axis ${label}` : `'${String.fromCharCode(label)}'`;
      fail('INVALID_GRAPH', `${where}: Einsum label ${name} has sizes ${seen} and ${d}`);
    }
  };
  const inputs = inTerms.map((t, i) => {
    const shape = shapes[i]!;
    const k = shape.length - (t.length - (t.includes(-1) ? 1 : 0)); // axes the ellipsis covers here
    const labels: number[] = [];
    for (const x of t) {
      if (x === -1) for (let e = 0; e < k; e++) labels.push(ellipsisRank - k + e);
      else labels.push(x);
    }
    labels.forEach((l, axis) => setSize(l, shape[axis]!, l < ellipsisRank));
    return labels;
  });

  const count = new Map<number, number>();
  for (const labels of inputs) for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  let output: number[];
  if (rhs === undefined) {
    const letters = [...count.keys()].filter((l) => l >= 65 && count.get(l) === 1).sort((a, b) => a - b);
    output = [...Array.from({ length: ellipsisRank }, (_, e) => e), ...letters];
  } else {
    const t = terms(rhs, where);
    if (t.includes(-1) && !inTerms.some((x) => x.includes(-1))) fail('INVALID_GRAPH', `${where}: Einsum output of '${equation}' has '...' but no input does`);
    output = t.flatMap((x) => (x === -1 ? Array.from({ length: ellipsisRank }, (_, e) => e) : [x]));
    for (const l of output) {
      if (!sizes.has(l)) fail('INVALID_GRAPH', `${where}: Einsum output label '${String.fromCharCode(l)}' of '${equation}' is on no input`);
    }
    if (new Set(output).size !== output.length) fail('INVALID_GRAPH', `${where}: Einsum output of '${equation}' repeats a label`);
  }
  const reduced = [...sizes.keys()].filter((l) => !output.includes(l));
  return { inputs, output, reduced, sizes, outDims: output.map((l) => sizes.get(l)!) };
}
