import { fail } from '../../core/errors.ts';
import type { WasmExport, WasmKernels } from '../wasm/contract.ts';
import type { ContribMaskKind } from './contrib-mask.ts';
import type { HeadLayout } from './core.ts';

// The JS side of kernels/wasm/src/attention.c: descriptors for kiln_attention_f32 (the attention
// proper) and kiln_attention_gather_f32 (present_key / present_value, a biased or rotated query),
// and a scratch layout helper. The lowerings (wasm.ts) compose them into steps.

/** The attention call's shape and the extras of the general form (all off: the plain kernel). */
export interface AttendSpec {
  readonly B: number;
  readonly N: number;
  /** query heads per K/V head */
  readonly group: number;
  readonly S: number;
  /** key rows the K/V layouts hold per (b, head): every window ends at or before it */
  readonly T: number;
  readonly H: number;
  readonly Hv: number;
  /** query s of batch b sees keys t < lens[b] + s + 1 (the rest dropped) */
  readonly causal: boolean;
  readonly scale: number;
  readonly q: HeadLayout;
  readonly k: HeadLayout;
  readonly v: HeadLayout;
  /** output element (b, n, s, h) at b * sb + s * sl + n * sn + h */
  readonly out: { readonly sb: number; readonly sl: number; readonly sn: number };
  /** keys before hi - 1 - window leave the softmax (GroupQueryAttention's local_window_size) */
  readonly window?: number;
  /** a contrib key padding mask, added as `filter` */
  readonly mask?: ContribMaskKind;
  /** keys t > lens[b] + s get `filter` added (onnxruntime's contrib causal mask when S > 1) */
  readonly causalAdd?: boolean;
  readonly filter?: number;
  /** attention_bias [B|1, N|1, S, T'] read with these strides (0 along broadcast dims) */
  readonly bias?: { readonly sb: number; readonly sn: number; readonly ss: number };
  readonly softcap?: number;
  readonly softcapFirst?: boolean;
  /** a sink logit per head: 'zero' (smooth softmax) or 'input' (head_sink) */
  readonly sink?: 'zero' | 'input';
  /** a past length per batch is passed (lens); else every past length is 0 */
  readonly lens?: boolean;
}

const MASK_CODES: Readonly<Record<ContribMaskKind, number>> = { none: 0, end: 1, 'end-start': 2, keys: 3, rows: 4, megatron: -1 };
/** The mask kinds the kernel reads (Megatron's [B, 1, M, M] is not one). */
export const wasmMaskKind = (kind: ContribMaskKind): boolean => MASK_CODES[kind] >= 0;

export const bsdOut = (S: number, N: number, Hv: number): AttendSpec['out'] => ({ sb: S * N * Hv, sl: N * Hv, sn: Hv });
export const bnshOut = (S: number, N: number, Hv: number): AttendSpec['out'] => ({ sb: N * S * Hv, sl: Hv, sn: S * Hv });

/** attention_bias strides for dims [B|1, N|1, S, Tb]. */
export const biasStrides = (dims: readonly number[]): AttendSpec['bias'] => {
  const [db, dn, ds, dt] = dims as [number, number, number, number];
  return { sb: db === 1 ? 0 : dn * ds * dt, sn: dn === 1 ? 0 : ds * dt, ss: dt };
};

export function attendDescriptor(p: AttendSpec): Int32Array {
  const layout = (l: HeadLayout): number[] => [l.base, l.sb, l.sl, l.sn];
  const b = p.bias;
  return Int32Array.from([
    p.B, p.N, p.S, p.T, p.H, p.Hv, p.causal ? 1 : 0, p.group, ...layout(p.q), ...layout(p.k), ...layout(p.v), p.out.sb, p.out.sl, p.out.sn,
    p.window ?? -1, MASK_CODES[p.mask ?? 'none'], p.causalAdd ? 1 : 0, b ? 1 : 0, b?.sb ?? 0, b?.sn ?? 0, b?.ss ?? 0,
    p.softcapFirst ? 1 : 0, p.sink === 'input' ? 2 : p.sink === 'zero' ? 1 : 0, p.lens ? 1 : 0,
  ]);
}

/** Pointers of the general form's extra inputs (0 where absent). */
export interface AttendPointers {
  readonly lens?: number;
  readonly mask?: number;
  readonly bias?: number;
  readonly sink?: number;
}

/** Bytes of one part's score row; a step reserves MAX_ROW_PARTS of them (one per thread). */
export const scoresBytes = (T: number): number => Math.ceil(Math.max(1, T) / 4) * 16;

/** kiln_attention_f32 over every row, split across the wasm thread pool by rows when it pays. */
export function attend(k: WasmKernels, q: number, kk: number, v: number, out: number, scores: number, desc: number, p: AttendSpec, ptr: AttendPointers = {}): void {
  const rows = p.B * p.N * p.S;
  k.parallelRows('kiln_attention_f32', {
    args: [q, kk, v, out, scores, desc, p.scale, p.softcap ?? 0, p.filter ?? 0, ptr.lens ?? 0, ptr.mask ?? 0, ptr.bias ?? 0, ptr.sink ?? 0],
    floats: 0b111 << 6,
    rows,
    scratchArg: 4,
    scratchStride: scoresBytes(p.T),
    work: rows * p.T * (p.H + p.Hv),
  });
}

/** What kiln_attention_gather_f32 writes: dst [B, heads, Tbuf, hd]. */
export interface GatherSpec {
  readonly B: number;
  readonly heads: number;
  readonly L: number;
  readonly hd: number;
  readonly Tbuf: number;
  /** rows per head of the past input ([B, heads, Pbuf, hd]); its first lens[b] rows are copied */
  readonly Pbuf: number;
  readonly src: HeadLayout;
  readonly past: boolean;
  readonly bias: boolean;
  /** rotary_dim / 2 (0: no rotation), pairs interleaved or halves, cache rows */
  readonly rotHalf: number;
  readonly interleaved: boolean;
  readonly maxPos: number;
  readonly lens: boolean;
}

export const gatherDescriptor = (g: GatherSpec): Int32Array => Int32Array.from([
  g.B, g.heads, g.L, g.hd, g.Tbuf, g.Pbuf, g.src.base, g.src.sb, g.src.sl, g.src.sn,
  g.past ? 1 : 0, g.bias ? 1 : 0, g.rotHalf, g.interleaved ? 1 : 0, g.maxPos, g.lens ? 1 : 0,
]);

export interface GatherPointers {
  readonly src: number;
  readonly dst: number;
  readonly desc: number;
  readonly past?: number;
  readonly bias?: number;
  readonly lens?: number;
  readonly cos?: number;
  readonly sin?: number;
}

export function gather(f: WasmExport, node: string, ptr: GatherPointers): void {
  const rc = f(ptr.src, ptr.past ?? 0, ptr.bias ?? 0, ptr.lens ?? 0, ptr.cos ?? 0, ptr.sin ?? 0, ptr.dst, ptr.desc);
  if (rc === -2) fail('INVALID_ARGUMENT', `node '${node}': a position is outside the rotary cache`);
  if (rc !== 0) fail('INTERNAL', `node '${node}': kiln_attention_gather_f32 refused its descriptor (${rc})`);
}

/** Byte regions laid out one after another, 16-byte aligned (a step's scratch or persistent data). */
export class Regions {
  private end = 0;
  /** reserves `bytes` and returns its offset from the start */
  take(bytes: number): number {
    const at = this.end;
    this.end += Math.ceil(Math.max(bytes, 0) / 16) * 16;
    return at;
  }
  get bytes(): number {
    return Math.max(this.end, 16);
  }
}

/** Writes int32 values at a byte offset of the module's memory. */
export const writeInts = (k: WasmKernels, at: number, values: ArrayLike<number>): void => {
  new Int32Array(k.memory.buffer, at, values.length).set(values);
};

/** Reads int32 values at a byte offset of the module's memory. */
export const readInts = (k: WasmKernels, at: number, n: number): Int32Array => new Int32Array(k.memory.buffer, at, n);
