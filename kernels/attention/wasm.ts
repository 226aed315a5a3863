import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { MAX_ROW_PARTS, packedBBytes, type WasmExport, type WasmKernel, type WasmStep } from '../wasm/contract.ts';
import * as contrib from './attention-op.ts';
import { causalSkipEnd, type ContribMaskKind } from './contrib-mask.ts';
import { bnshLayout, type HeadLayout } from './core.ts';
import * as gqa from './group-query-op.ts';
import * as mha from './multi-head-op.ts';
import * as onnx from './onnx-attention-op.ts';
import { attend, attendDescriptor, biasStrides, bnshOut, bsdOut, gather, gatherDescriptor, readInts, Regions, scoresBytes, wasmMaskKind, writeInts, type AttendSpec, type GatherSpec } from './wasm-attend.ts';

// Attention in wasm (kernels/wasm/src/attention.c): one query row at a time. Q/K/V are read in
// place through their head layouts where nothing must be added to them; past, bias, rotary and the
// present outputs go through one gather pass per tensor (present_key / present_value written
// directly when the node outputs them). Masks, attention_bias, softcap, local windows and sinks are
// the kernel's own. Declined (the js kernel runs): float16, Megatron masks, GQA position_ids (int64
// is not a memory dtype), ONNX Attention masks / past / softcap, weights computed at run time.

const F32 = 4;

/** The gathers and the attention call of one step, with their scratch and persistent regions. */
interface Gathered {
  readonly spec: GatherSpec;
  /** input slot of the source (-1: the step's scratch, at `srcScratch`) */
  readonly srcSlot: number;
  readonly srcScratch?: number;
  readonly pastSlot?: number;
  /** byte offset added to the past input's address (a combined [2, ...] past) */
  readonly pastOffset?: number;
  readonly biasSlot?: number;
  readonly biasOffset?: number;
  readonly rotary?: { readonly cos: number; readonly sin: number };
  /** where it writes: an output slot (+ byte offset) or the scratch at `scratchAt` */
  readonly dst: { readonly output: number; readonly offset: number } | { readonly scratchAt: number };
}

interface StepPlan {
  readonly node: string;
  readonly attend: AttendSpec;
  readonly reads: readonly number[];
  readonly gathers: readonly Gathered[];
  /** where Q, K and V are read: an input slot or a gathered tensor's index, or the scratch */
  readonly qkv: readonly (Source)[];
  readonly scratch: Regions;
  readonly scoresAt: number;
  /** lens: constant past lengths (persistent) or computed per run into the scratch */
  readonly lens?: { readonly constant: readonly number[] } | { readonly scratchAt: number; readonly compute: (seqlens: Int32Array) => number[]; readonly seqlensSlot: number };
  readonly maskSlot?: number;
  readonly biasSlot?: number;
  readonly sinkSlot?: number;
  /** WasmStep.writesOver: outputs written over a carried past in place */
  readonly writesOver?: WasmStep['writesOver'];
  /** a GEMM into the scratch before everything else (com.microsoft Attention's projection) */
  readonly project?: { readonly prepare: WasmStep['prepare']; readonly run: (k: Parameters<WasmStep['run']>[0], at: Parameters<WasmStep['run']>[1], packed: number) => void; readonly bytes: number };
}

type Source = { readonly slot: number } | { readonly gathered: number } | { readonly scratchAt: number };

function buildStep(p: StepPlan): WasmStep {
  const desc = attendDescriptor(p.attend);
  const gDescs = p.gathers.map((g) => gatherDescriptor(g.spec));
  const lens = p.lens;
  const persistentBytes = [...(p.project ? [p.project.bytes] : []), desc.byteLength, ...gDescs.map((d) => d.byteLength), lens && 'constant' in lens ? Math.max(4, lens.constant.length * 4) : 4];
  const base = p.project ? 1 : 0;
  let g: WasmExport | undefined;
  return {
    reads: [...new Set(p.reads)],
    scratchBytes: p.scratch.bytes,
    persistentBytes,
    ...(p.writesOver ? { writesOver: p.writesOver } : {}),
    prepare(k, at) {
      k.fn('kiln_attention_f32'); // a missing export fails at session creation
      g = p.gathers.length ? k.fn('kiln_attention_gather_f32') : undefined;
      p.project?.prepare?.(k, at);
      writeInts(k, at.persistent[base]!, desc);
      gDescs.forEach((d, i) => writeInts(k, at.persistent[base + 1 + i]!, d));
      if (lens && 'constant' in lens) writeInts(k, at.persistent[base + 1 + gDescs.length]!, lens.constant);
    },
    run(k, at) {
      if (p.project) p.project.run(k, at, at.persistent[0]!);
      let lensAt = 0;
      if (lens) {
        if ('constant' in lens) lensAt = at.persistent[base + 1 + gDescs.length]!;
        else {
          lensAt = at.scratch + lens.scratchAt;
          writeInts(k, lensAt, lens.compute(readInts(k, at.inputs[lens.seqlensSlot]!, p.attend.B).slice()));
        }
      }
      const dsts = p.gathers.map((x) => ('output' in x.dst ? at.outputs[x.dst.output]! + x.dst.offset : at.scratch + x.dst.scratchAt));
      p.gathers.forEach((x, i) => {
        g ??= k.fn('kiln_attention_gather_f32');
        gather(g, p.node, {
          src: x.srcSlot >= 0 ? at.inputs[x.srcSlot]! : at.scratch + x.srcScratch!,
          dst: dsts[i]!,
          desc: at.persistent[base + 1 + i]!,
          past: x.pastSlot !== undefined ? at.inputs[x.pastSlot]! + (x.pastOffset ?? 0) : 0,
          bias: x.biasSlot !== undefined ? at.inputs[x.biasSlot]! + (x.biasOffset ?? 0) : 0,
          lens: lensAt,
          cos: x.rotary ? at.inputs[x.rotary.cos] : 0,
          sin: x.rotary ? at.inputs[x.rotary.sin] : 0,
        });
      });
      const addr = (s: Source): number => ('slot' in s ? at.inputs[s.slot]! : 'gathered' in s ? dsts[s.gathered]! : at.scratch + s.scratchAt);
      const [q, kk, v] = p.qkv.map(addr) as [number, number, number];
      attend(k, q, kk, v, at.outputs[0]!, at.scratch + p.scoresAt, at.persistent[base]!, p.attend, {
        lens: lensAt,
        mask: p.maskSlot !== undefined ? at.inputs[p.maskSlot] : 0,
        bias: p.biasSlot !== undefined ? at.inputs[p.biasSlot] : 0,
        sink: p.sinkSlot !== undefined ? at.inputs[p.sinkSlot] : 0,
      });
    },
  };
}

const noRotary = { rotHalf: 0, interleaved: false, maxPos: 0 };

/**
 * The contrib causal mask: dropped keys where their weight is exactly 0 (contrib-mask.ts
 * causalSkipEnd, the js fast path's rule), else mask_filter_value added (onnxruntime, S > 1).
 */
function contribCausal(mask: ContribMaskKind, causal: boolean, S: number, filter: number, hasBias: boolean): Pick<AttendSpec, 'causal' | 'causalAdd'> {
  if (causalSkipEnd(mask, causal, S, filter, hasBias)) return { causal: true, causalAdd: false };
  return { causal: false, causalAdd: causal && S > 1 };
}

/**
 * com.microsoft MultiHeadAttention, float32: every input form; bias, past and the present outputs
 * through the gather; key_padding_mask, attention_bias and the causal mask in the kernel.
 */
const multiHead: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[mha.Q]?.dtype !== 'float32') return undefined;
  const p = mha.mhaPlan(inputs, ctx);
  if (!wasmMaskKind(p.mask)) return undefined;
  const { B, S, N, L, P, T, H, Hv } = p;
  const hasBias = !!inputs[mha.BIAS], hasPast = !!inputs[mha.PAST_K];
  const kvBias = hasBias && p.form !== 'bnsh';
  const kSlot = p.form === 'packed-qkv' ? mha.Q : mha.K;
  const vSlot = p.form === 'packed-qkv' ? mha.Q : p.form === 'packed-kv' ? mha.K : mha.V;
  const scratch = new Regions();
  const gathers: Gathered[] = [];
  const reads = [mha.Q, kSlot, vSlot];
  const qkv: Source[] = [{ slot: mha.Q }, { slot: kSlot }, { slot: vSlot }];
  let q = p.q, k = p.k, v = p.v;
  if (hasBias) {
    reads.push(mha.BIAS);
    const at = scratch.take(B * N * S * H * F32);
    gathers.push({ spec: { B, heads: N, L: S, hd: H, Tbuf: S, Pbuf: 0, src: p.q, past: false, bias: true, lens: false, ...noRotary }, srcSlot: mha.Q, biasSlot: mha.BIAS, dst: { scratchAt: at } });
    qkv[0] = { gathered: gathers.length - 1 };
    q = bnshLayout(N, S, H);
  }
  const kvGather = hasPast || kvBias || outputs.length > 1;
  if (kvGather) {
    if (hasPast) reads.push(mha.PAST_K, mha.PAST_V);
    for (const [i, slot, hd, pastSlot, biasAt] of [[1, kSlot, H, mha.PAST_K, N * H], [2, vSlot, Hv, mha.PAST_V, 2 * N * H]] as const) {
      const dst = outputs.length > i ? { output: i, offset: 0 } : { scratchAt: scratch.take(B * N * T * hd * F32) };
      const src = i === 1 ? p.k : p.v;
      gathers.push({
        spec: { B, heads: N, L, hd, Tbuf: T, Pbuf: P, src, past: hasPast, bias: kvBias, lens: true, ...noRotary },
        srcSlot: slot, pastSlot: hasPast ? pastSlot : undefined, biasSlot: kvBias ? mha.BIAS : undefined, biasOffset: biasAt * F32, dst,
      });
      qkv[i] = { gathered: gathers.length - 1 };
    }
    k = bnshLayout(N, T, H);
    v = bnshLayout(N, T, Hv);
  }
  const ab = inputs[mha.ATTN_BIAS];
  const maskSlot = inputs[mha.MASK] ? mha.MASK : undefined;
  if (maskSlot !== undefined) reads.push(maskSlot);
  if (ab) reads.push(mha.ATTN_BIAS);
  const scoresAt = scratch.take(MAX_ROW_PARTS * scoresBytes(T));
  return buildStep({
    node: ctx.node,
    attend: {
      B, N, group: 1, S, T, H, Hv, scale: p.scale, q, k, v, out: bsdOut(S, N, Hv),
      ...contribCausal(p.mask, p.causal, S, p.filter, !!ab),
      mask: p.mask, filter: p.filter, bias: ab && biasStrides(ab.dims), lens: true,
    },
    reads, gathers, qkv, scratch, scoresAt,
    lens: { constant: Array<number>(B).fill(P) },
    maskSlot, biasSlot: ab ? mha.ATTN_BIAS : undefined,
  });
};

/**
 * ONNX Attention (opset 23): float32, Y only, no past or nonpad_kv_seqlen, no softcap; a float
 * attn_mask whose last dim is the key count (broadcast over the others) is the kernel's additive
 * term (bool masks and short or broadcast key dims run js). is_causal drops keys t > s (no past:
 * the offset is 0), which is the window the kernel takes. Grouped K/V heads read K/V head n / group.
 */
const onnxAttention: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[onnx.Q]?.dtype !== 'float32' || outputs.length !== 1) return undefined;
  if (inputs[onnx.PAST_K] || inputs[onnx.PAST_V] || inputs[onnx.NONPAD]) return undefined;
  const p = onnx.onnxAttentionPlan(inputs, ctx);
  if (p.P !== 0 || p.softcap !== 0 || p.N % p.Nkv !== 0) return undefined;
  const md = p.maskDims;
  if (md && (p.maskBool || md[3] !== p.T)) return undefined;
  const scratch = new Regions();
  const scoresAt = scratch.take(MAX_ROW_PARTS * scoresBytes(p.T));
  const bias = md && { sb: md[0] === 1 ? 0 : md[1]! * md[2]! * md[3]!, sn: md[1] === 1 ? 0 : md[2]! * md[3]!, ss: md[2] === 1 ? 0 : md[3]! };
  return buildStep({
    node: ctx.node,
    attend: { ...p, group: p.N / p.Nkv, out: p.rank === 3 ? bsdOut(p.S, p.N, p.Hv) : bnshOut(p.S, p.N, p.Hv), bias },
    reads: md ? [onnx.Q, onnx.K, onnx.V, onnx.MASK] : [onnx.Q, onnx.K, onnx.V], gathers: [], qkv: [{ slot: onnx.Q }, { slot: onnx.K }, { slot: onnx.V }], scratch, scoresAt,
    biasSlot: md ? onnx.MASK : undefined,
  });
};

/**
 * com.microsoft Attention (BERT-style, the QKV projection inside the op): the projection is the
 * wasm GEMM (weights and bias packed once) into scratch [B * S, Dq + Dk + Dv], then the kernel
 * reads Q from there; K and V too, or through the gather into present when there is a past or a
 * present output. float32 and constant weights (and bias); Megatron masks decline.
 */
const contribAttention: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[contrib.X]?.dtype !== 'float32') return undefined;
  const w = ctx.constants[contrib.W];
  const bias = inputs[contrib.BIAS] ? ctx.constants[contrib.BIAS] : undefined;
  if (!w || (inputs[contrib.BIAS] && !bias)) return undefined;
  const p = contrib.attentionPlan(inputs, ctx);
  if (!wasmMaskKind(p.mask) || p.Din < 1 || p.B * p.S === 0) return undefined;
  const { B, S, N, Din, Dq, Dtot, P, T, H, Hv } = p;
  const rows = B * S;
  const head = (base: number, hd: number): HeadLayout => ({ base, sb: S * Dtot, sl: Dtot, sn: hd });
  const scratch = new Regions();
  const qkvAt = scratch.take(rows * Dtot * F32);
  const hasPast = !!inputs[contrib.PAST];
  const reads = [contrib.X];
  const gathers: Gathered[] = [];
  const qkv: Source[] = [{ scratchAt: qkvAt }, { scratchAt: qkvAt }, { scratchAt: qkvAt }];
  let k = head(Dq, H), v = head(2 * Dq, Hv);
  if (hasPast || outputs.length > 1) {
    if (hasPast) reads.push(contrib.PAST);
    for (const [i, hd, base] of [[1, H, Dq], [2, Hv, 2 * Dq]] as const) {
      // present [2, B, N, T, H]: K then V
      const dst = outputs.length > 1 ? { output: 1, offset: (i - 1) * B * N * T * H * F32 } : { scratchAt: scratch.take(B * N * T * hd * F32) };
      gathers.push({
        spec: { B, heads: N, L: S, hd, Tbuf: T, Pbuf: P, src: head(base, hd), past: hasPast, bias: false, lens: true, ...noRotary },
        srcSlot: -1, srcScratch: qkvAt, pastSlot: hasPast ? contrib.PAST : undefined, pastOffset: (i - 1) * B * N * P * H * F32, dst,
      });
      qkv[i] = { gathered: gathers.length - 1 };
    }
    k = bnshLayout(N, T, H);
    v = bnshLayout(N, T, Hv);
  }
  const ab = inputs[contrib.ATTN_BIAS];
  const maskSlot = inputs[contrib.MASK] && p.mask !== 'none' ? contrib.MASK : undefined;
  if (maskSlot !== undefined) reads.push(maskSlot);
  if (ab) reads.push(contrib.ATTN_BIAS);
  const scoresAt = scratch.take(MAX_ROW_PARTS * scoresBytes(T));
  return buildStep({
    node: ctx.node,
    attend: {
      B, N, group: 1, S, T, H, Hv, scale: p.scale, q: head(0, H), k, v, out: bsdOut(S, N, Hv),
      ...contribCausal(p.mask, p.causal, S, p.filter, !!ab),
      mask: p.mask, filter: p.filter, bias: ab && biasStrides(ab.dims), lens: true,
    },
    reads, gathers, qkv, scratch, scoresAt,
    lens: { constant: Array<number>(B).fill(P) },
    maskSlot, biasSlot: ab ? contrib.ATTN_BIAS : undefined,
    project: {
      bytes: packedBBytes(Din, Dtot),
      prepare(kern, at) {
        kern.packBF32({ b: at.stage(w), ldb: Dtot, k: Din, n: Dtot, bias: bias && at.stage(bias), out: at.persistent[0]! });
      },
      run(kern, at, packed) {
        kern.gemmF32({ a: at.inputs[contrib.X]!, lda: Din, bPacked: packed, c: at.scratch + qkvAt, ldc: Dtot, m: rows, n: Dtot, k: Din });
      },
    },
  });
};

/**
 * com.microsoft GroupQueryAttention, float32: past lengths from seqlens_k per run, present_key /
 * present_value written by the gather (past rows, new rows rotated when do_rotary, zeros after),
 * the query rotated into scratch, then causal windows with local_window_size, softcap,
 * attention_bias and smooth softmax / head_sink in the kernel. position_ids (int64) declines.
 * A present as long as its past (a shared buffer: generate()'s in-place graph sets
 * total_sequence_length to the cache's length) may take the past's bytes where the backend carries
 * it (writesOver): the gather then writes the S new rows at rows P .. P + S - 1 only, past the P rows
 * the step reads as past, so one step costs its new rows, not the cache's length. A present longer
 * than its past (a past that grows by a row per step) keeps its own bytes and the copy.
 */
const groupQuery: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[gqa.Q]?.dtype !== 'float32' || inputs[gqa.POS_IDS]) return undefined;
  const p = gqa.gqaPlan(inputs, ctx);
  const { B, S, N, Nkv, H, Tp, Pbuf } = p;
  const hasPast = !!inputs[gqa.PAST_K];
  const scratch = new Regions();
  const lensAt = scratch.take(B * 4);
  const rot = p.rotary ? { rotHalf: p.rotaryDim / 2, interleaved: p.interleaved, maxPos: inputs[gqa.COS]!.dims[0]! } : noRotary;
  const kSlot = p.packed ? gqa.Q : gqa.K, vSlot = p.packed ? gqa.Q : gqa.V;
  const reads = [gqa.Q, kSlot, vSlot, gqa.SEQLENS];
  if (p.rotary) reads.push(gqa.COS, gqa.SIN);
  const rotary = p.rotary ? { cos: gqa.COS, sin: gqa.SIN } : undefined;
  const gathers: Gathered[] = [];
  const qkv: Source[] = [{ slot: gqa.Q }, { gathered: 0 }, { gathered: 1 }];
  for (const [i, slot, pastSlot] of [[1, kSlot, gqa.PAST_K], [2, vSlot, gqa.PAST_V]] as const) {
    const dst = outputs.length > i ? { output: i, offset: 0 } : { scratchAt: scratch.take(B * Nkv * Tp * H * F32) };
    gathers.push({
      spec: { B, heads: Nkv, L: S, hd: H, Tbuf: Tp, Pbuf, src: i === 1 ? p.k : p.v, past: hasPast, bias: false, lens: true, ...(i === 1 ? rot : noRotary) },
      srcSlot: slot, pastSlot: hasPast ? pastSlot : undefined, rotary: i === 1 ? rotary : undefined, dst,
    });
  }
  if (hasPast) reads.push(gqa.PAST_K, gqa.PAST_V);
  let q = p.q;
  if (p.rotary) {
    const at = scratch.take(B * N * S * H * F32);
    gathers.push({ spec: { B, heads: N, L: S, hd: H, Tbuf: S, Pbuf: 0, src: p.q, past: false, bias: false, lens: true, ...rot }, srcSlot: gqa.Q, rotary, dst: { scratchAt: at } });
    qkv[0] = { gathered: 2 };
    q = bnshLayout(N, S, H);
  }
  const ab = inputs[gqa.ATTN_BIAS], sink = inputs[gqa.SINK];
  if (ab) reads.push(gqa.ATTN_BIAS);
  if (sink) reads.push(gqa.SINK);
  const scoresAt = scratch.take(MAX_ROW_PARTS * scoresBytes(Tp));
  return buildStep({
    node: ctx.node,
    attend: {
      B, N, group: N / Nkv, S, T: Tp, H, Hv: H, scale: p.scale, q, k: bnshLayout(Nkv, Tp, H), v: bnshLayout(Nkv, Tp, H), out: bsdOut(S, N, H),
      causal: true, window: p.window, softcap: p.softcap, softcapFirst: true, bias: ab && biasStrides(ab.dims), sink: sink ? 'input' : p.smooth ? 'zero' : undefined, lens: true,
    },
    reads, gathers, qkv, scratch, scoresAt,
    lens: { scratchAt: lensAt, seqlensSlot: gqa.SEQLENS, compute: (seqlens) => gqa.pastLengths(p, seqlens, ctx) },
    biasSlot: ab ? gqa.ATTN_BIAS : undefined, sinkSlot: sink ? gqa.SINK : undefined,
    writesOver: hasPast && Tp === Pbuf ? [undefined, gqa.PAST_K, gqa.PAST_V] : undefined,
  });
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('com.microsoft', 'MultiHeadAttention')]: multiHead,
  [opKey('', 'Attention')]: onnxAttention,
  [opKey('com.microsoft', 'Attention')]: contribAttention,
  [opKey('com.microsoft', 'GroupQueryAttention')]: groupQuery,
};
