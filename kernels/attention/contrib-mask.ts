import { fail } from '../../core/errors.ts';
import type { KernelContext, TensorMeta } from '../contract.ts';

/**
 * The mask formats of onnxruntime's com.microsoft Attention (mask_index) and MultiHeadAttention
 * (key_padding_mask), as its CPU kernel's PrepareMask reads them. Every format becomes a value per
 * (b, s, t) of 0 (attend) or mask_filter_value (added to the score: the key stays in the softmax
 * with a weight near 0), and a causal mask sets keys t > past + s to mask_filter_value too.
 */
export type ContribMaskKind =
  | 'none'
  /** [B]: keys t >= end[b] masked (right padding) */
  | 'end'
  /** [2B]: end positions then start positions: t >= end[b] or t < start[b] masked */
  | 'end-start'
  /** [B, T]: mask[b, t] == 0 masked */
  | 'keys'
  /** [B, S, T]: mask[b, s, t] == 0 masked */
  | 'rows'
  /** [B, 1, M, M] Megatron: mask[b, 0, past + s, t] == 0 masked */
  | 'megatron';

export interface MaskDims {
  readonly B: number;
  readonly S: number;
  readonly T: number;
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function contribMaskKind(m: TensorMeta | undefined, { B, S, T }: MaskDims, ctx: KernelContext, what: string, allowMegatron: boolean): ContribMaskKind {
  if (!m) return 'none';
  if (m.dtype !== 'int32') fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must be int32, got ${m.dtype}`);
  const d = m.dims;
  const bad = (): never => fail('INVALID_GRAPH', `node '${ctx.node}': ${what} has shape ${dimsText(d)}; expected [${B}], [${2 * B}], [${B}, ${T}] or [${B}, ${S}, ${T}]${allowMegatron ? ` or [${B}, 1, M, M] with M >= ${T}` : ''}`);
  if (d.length === 1) {
    if (d[0] === B) return 'end';
    if (d[0] === 2 * B) return 'end-start';
    if (d[0] === 3 * B + 2) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': ${what} of shape [3 * batch + 2] (cumulative sequence lengths, onnxruntime's CUDA-only format) is not supported`);
    return bad();
  }
  if (d.length === 2) {
    if (d[0] === B && d[1] === T) return 'keys';
    // onnxruntime's "dummy" mask: [B, 1] or [1, 1] masks nothing
    if ((d[0] === B || d[0] === 1) && d[1] === 1) return 'none';
    return bad();
  }
  if (d.length === 3 && d[0] === B && d[1] === S && d[2] === T) return 'rows';
  if (allowMegatron && d.length === 4 && d[0] === B && d[1] === 1 && d[2] === d[3] && d[2]! >= T) return 'megatron';
  return bad();
}

/** mask(b, s, t): 0 or `filter`, onnxruntime's PrepareMask with the causal mask merged in. */
export function contribMask(
  kind: ContribMaskKind,
  data: Int32Array | undefined,
  dims: MaskDims & { readonly past: number; readonly megatronSize?: number },
  causal: boolean,
  filter: number,
): ((b: number, s: number, t: number) => number) | undefined {
  const { B, S, T, past } = dims;
  // onnxruntime applies the causal mask only when S > 1
  const masksFuture = causal && S > 1;
  if (kind === 'none' && !masksFuture) return undefined;
  const visible = (b: number, s: number, t: number): boolean => {
    switch (kind) {
      case 'none': return true;
      case 'end': return t < data![b]!;
      case 'end-start': return t < data![b]! && t >= Math.min(data![b + B]!, T);
      case 'keys': return data![b * T + t]! > 0;
      case 'rows': return data![(b * S + s) * T + t]! > 0;
      case 'megatron': {
        const M = dims.megatronSize!;
        return data![(b * M + past + s) * M + t]! > 0;
      }
    }
  };
  return (b, s, t) => ((masksFuture && t > past + s) || !visible(b, s, t) ? filter : 0);
}

/**
 * The keys a fast path may skip for query s: with only the causal mask (no padding mask, no
 * attention bias) and mask_filter_value <= -1000, a key past the diagonal scores at least ~900
 * below the row's first key (never masked), so its softmax weight is exactly 0 in float32 (e^-104
 * underflows), as it is in onnxruntime's kernel. Returns the window's end, or undefined for all keys.
 */
export function causalSkipEnd(kind: ContribMaskKind, causal: boolean, S: number, filter: number, hasBias: boolean): ((s: number) => number) | undefined {
  return kind === 'none' && causal && S > 1 && filter <= -1000 && !hasBias ? (s) => s + 1 : undefined;
}
