// The chi-square test of homogeneity between a window's bin counts and the reference's: the
// p-value behind the drift monitor's multiple-testing correction. Bins too sparse for the
// chi-square approximation are pooled first.

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Upper regularized incomplete gamma Q(s, x) (Numerical Recipes: series below s + 1, else continued fraction). */
export function gammaQ(s: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + s * Math.log(x) - logGamma(s);
  if (x < s + 1) {
    let term = 1 / s;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

/** P(X >= statistic) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquarePValue(statistic: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, statistic / 2);
}

/** Pooled bins need this many expected window samples each (Cochran's rule of thumb). */
const MIN_EXPECTED = 5;

/**
 * p-value that `window` and `reference` counts come from the same distribution over the bins
 * (Pearson's chi-square on the 2 x k table). Bins whose expected window count is under 5 are
 * pooled together (and with the smallest other bin when the pool alone is still too small).
 */
export function homogeneityPValue(window: readonly number[], reference: readonly number[]): number {
  const W = window.reduce((a, b) => a + b, 0);
  const R = reference.reduce((a, b) => a + b, 0);
  if (W === 0 || R === 0) return 1;
  const expectedShare = window.map((w, i) => (w + reference[i]!) / (W + R));
  const bins: { w: number; r: number; share: number }[] = [];
  let pool = { w: 0, r: 0, share: 0 };
  expectedShare.forEach((share, i) => {
    if (share === 0) return;
    if (share * W < MIN_EXPECTED) pool = { w: pool.w + window[i]!, r: pool.r + reference[i]!, share: pool.share + share };
    else bins.push({ w: window[i]!, r: reference[i]!, share });
  });
  if (pool.share > 0) {
    if (pool.share * W >= MIN_EXPECTED || bins.length === 0) bins.push(pool);
    else {
      bins.sort((a, b) => a.share - b.share);
      const smallest = bins[0]!;
      bins[0] = { w: smallest.w + pool.w, r: smallest.r + pool.r, share: smallest.share + pool.share };
    }
  }
  if (bins.length < 2) return 1;
  let stat = 0;
  for (const b of bins) {
    const ew = b.share * W;
    const er = b.share * R;
    stat += (b.w - ew) ** 2 / ew + (b.r - er) ** 2 / er;
  }
  return chiSquarePValue(stat, bins.length - 1);
}
