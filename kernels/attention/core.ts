/**
 * The math every attention op shares, once each op has brought its inputs to one canonical form:
 * Q [B, N, S, H], K [B, Nkv, Tbuf, H], V [B, Nkv, Tbuf, Hv] (head n reads kv head n / (N / Nkv)),
 * and per query row a key window [lo, hi) plus an optional additive term. For query (b, n, s):
 *
 *   x_t = scale * q . k_t                      for lo <= t < hi
 *   x_t = softcap * tanh(x_t / softcap)        (softcap > 0; before or after the additive term)
 *   x_t += add(b, n, s, t)
 *   out = sum_t softmax(x)_t * v_t             (an empty window gives zeros)
 *
 * onnxruntime's contrib ops express padding and causal masks as an additive mask_filter_value
 * (every key stays in the softmax); GroupQueryAttention and the opset-23 Attention drop masked keys
 * from the softmax altogether: those become the window.
 */

export type Floats = Float32Array | Float64Array;
export type Alloc = (n: number) => Floats;

export interface Problem {
  readonly B: number;
  readonly N: number;
  readonly Nkv: number;
  readonly S: number;
  /** key rows allocated per (b, kv head) in k and v (>= every window's hi) */
  readonly Tbuf: number;
  readonly H: number;
  readonly Hv: number;
  readonly q: Floats;
  readonly k: Floats;
  readonly v: Floats;
  readonly scale: number;
  readonly softcap: number;
  /** softcap applied to the scaled scores before `add` (GroupQueryAttention) or after (ONNX Attention) */
  readonly softcapFirst: boolean;
  /** the keys query row (b, s) sees: lo <= t < hi */
  window(b: number, s: number): readonly [number, number];
  add?(b: number, n: number, s: number, t: number): number;
  /** an extra logit per head that joins the softmax's denominator only (smooth softmax: 0; head_sink) */
  sink?(n: number): number;
}

/** The plain reference: one softmax row at a time, in float64. Output [B, N, S, Hv]. */
export function attendReference(p: Problem): Float64Array {
  const { B, N, Nkv, S, Tbuf, H, Hv } = p;
  const out = new Float64Array(B * N * S * Hv);
  const group = N / Nkv;
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const kvHead = b * Nkv + Math.floor(n / group);
      for (let s = 0; s < S; s++) {
        const [lo, hi] = p.window(b, s);
        if (hi <= lo) continue;
        const qRow = ((b * N + n) * S + s) * H;
        const scores: number[] = [];
        for (let t = lo; t < hi; t++) {
          let dot = 0;
          for (let h = 0; h < H; h++) dot += p.q[qRow + h]! * p.k[(kvHead * Tbuf + t) * H + h]!;
          let x = dot * p.scale;
          if (p.softcap > 0 && p.softcapFirst) x = p.softcap * Math.tanh(x / p.softcap);
          if (p.add) x += p.add(b, n, s, t);
          // a key masked with -inf stays masked through the softcap
          if (p.softcap > 0 && !p.softcapFirst && x !== -Infinity) x = p.softcap * Math.tanh(x / p.softcap);
          scores.push(x);
        }
        const sink = p.sink?.(n);
        const max = Math.max(...scores, sink ?? -Infinity);
        // every key masked with -inf: the row attends to nothing and is zeros
        if (max === -Infinity) continue;
        const weights = scores.map((x) => Math.exp(x - max));
        const sum = weights.reduce((a, w) => a + w, sink === undefined ? 0 : Math.exp(sink - max));
        const oRow = ((b * N + n) * S + s) * Hv;
        for (let t = lo; t < hi; t++) {
          const w = weights[t - lo]! / sum;
          for (let h = 0; h < Hv; h++) out[oRow + h] += w * p.v[(kvHead * Tbuf + t) * Hv + h]!;
        }
      }
    }
  }
  return out;
}

/**
 * The CPU fast path: float32 storage, two passes over one query row's keys (scores into a scratch
 * row of Tbuf, then the weighted sum of V), so memory stays O(T + Hv) per row and no S x T matrix
 * exists. Dot products run four lanes at a time. Output [B, N, S, Hv].
 */
export function attendFast(p: Problem): Float32Array {
  const { B, N, Nkv, S, Tbuf, H, Hv, q, k, v, scale, softcap, softcapFirst } = p;
  const out = new Float32Array(B * N * S * Hv);
  const acc = new Float64Array(Hv);
  const scores = new Float64Array(Tbuf);
  const group = N / Nkv;
  const add = p.add;
  const H4 = H - (H % 4);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const kvBase = (b * Nkv + Math.floor(n / group)) * Tbuf;
      for (let s = 0; s < S; s++) {
        const [lo, hi] = p.window(b, s);
        if (hi <= lo) continue;
        const qRow = ((b * N + n) * S + s) * H;
        let max = -Infinity;
        for (let t = lo; t < hi; t++) {
          const kRow = (kvBase + t) * H;
          let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
          let h = 0;
          for (; h < H4; h += 4) {
            d0 += q[qRow + h]! * k[kRow + h]!;
            d1 += q[qRow + h + 1]! * k[kRow + h + 1]!;
            d2 += q[qRow + h + 2]! * k[kRow + h + 2]!;
            d3 += q[qRow + h + 3]! * k[kRow + h + 3]!;
          }
          for (; h < H; h++) d0 += q[qRow + h]! * k[kRow + h]!;
          let x = (d0 + d1 + d2 + d3) * scale;
          if (softcap > 0 && softcapFirst) x = softcap * Math.tanh(x / softcap);
          if (add) x += add(b, n, s, t);
          if (softcap > 0 && !softcapFirst && x !== -Infinity) x = softcap * Math.tanh(x / softcap);
          scores[t - lo] = x;
          if (x > max) max = x;
        }
        const sink = p.sink?.(n);
        if (sink !== undefined && sink > max) max = sink;
        // every key masked with -inf: the row attends to nothing and is zeros
        if (max === -Infinity) continue;
        acc.fill(0);
        let sum = sink === undefined ? 0 : Math.exp(sink - max);
        for (let t = lo; t < hi; t++) {
          const w = Math.exp(scores[t - lo]! - max);
          if (w === 0) continue;
          sum += w;
          const vRow = (kvBase + t) * Hv;
          for (let h = 0; h < Hv; h++) acc[h] += w * v[vRow + h]!;
        }
        const oRow = ((b * N + n) * S + s) * Hv;
        for (let h = 0; h < Hv; h++) out[oRow + h] = acc[h]! / sum;
      }
    }
  }
  return out;
}

/** [B, N, S, Hv] -> [B, S, N * Hv] (the contrib ops' output layout). */
export function bnshToBsd(x: Floats, B: number, N: number, S: number, Hv: number): Floats {
  const out = new (x.constructor as Float64ArrayConstructor | Float32ArrayConstructor)(x.length);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
    const from = ((b * N + n) * S + s) * Hv;
    const to = ((b * S + s) * N + n) * Hv;
    for (let h = 0; h < Hv; h++) out[to + h] = x[from + h]!;
  }
  return out;
}

/**
 * Where element (b, n, l, h) of a [B, heads, L, hd] view lives in a source buffer: base + b * sb +
 * l * sl + n * sn + h (every source layout the ops accept has unit stride along the head dim).
 */
export interface HeadLayout {
  readonly base: number;
  readonly sb: number;
  readonly sl: number;
  readonly sn: number;
}

/** [B, L, heads * hd] with rows `rowWidth` wide (packed forms) and this view starting at `base`. */
export const bsdLayout = (L: number, rowWidth: number, hd: number, base = 0): HeadLayout => ({ base, sb: L * rowWidth, sl: rowWidth, sn: hd });
/** [B, heads, L, hd] */
export const bnshLayout = (heads: number, L: number, hd: number): HeadLayout => ({ base: 0, sb: heads * L * hd, sl: hd, sn: L * hd });

/**
 * Builds a [B, heads, Tbuf, hd] buffer: rows t < past(b) from `past` ([B, heads, pastLen, hd]),
 * rows past(b) <= t < past(b) + L from the source (plus `bias[biasAt + n * hd + h]`), zeros after.
 * This is present_key / present_value when the op has them, and what attention reads.
 */
export function gatherHeads(
  alloc: Alloc,
  dims: { B: number; heads: number; L: number; hd: number; Tbuf: number },
  src: Floats,
  layout: HeadLayout,
  past?: { data: Floats; len: number; rowsPerHead: number; at: (b: number) => number },
  bias?: { data: Floats; at: number },
): Floats {
  const { B, heads, L, hd, Tbuf } = dims;
  const out = alloc(B * heads * Tbuf * hd);
  for (let b = 0; b < B; b++) {
    const P = past ? past.at(b) : 0;
    for (let n = 0; n < heads; n++) {
      const dst = (b * heads + n) * Tbuf;
      if (past) for (let t = 0; t < P; t++) for (let h = 0; h < hd; h++) out[(dst + t) * hd + h] = past.data[((b * heads + n) * past.rowsPerHead + t) * hd + h]!;
      for (let l = 0; l < L && P + l < Tbuf; l++) {
        const from = layout.base + b * layout.sb + l * layout.sl + n * layout.sn;
        for (let h = 0; h < hd; h++) out[(dst + P + l) * hd + h] = src[from + h]! + (bias ? bias.data[bias.at + n * hd + h]! : 0);
      }
    }
  }
  return out;
}
