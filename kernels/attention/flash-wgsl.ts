import type { TensorMeta } from '../contract.ts';
import type { BufferRef, GpuCaps, GpuProgram } from '../webgpu/contract.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { causalSkipEnd, type ContribMaskKind } from './contrib-mask.ts';
import type { HeadLayout } from './core.ts';

/**
 * The WebGPU attention programs every op lowers to (see core.ts for the math):
 *  - gatherProgram: one [B, heads, Tbuf, hd] buffer from the op's layout (+ past rows, bias, rotary);
 *    present_key/present_value when the node has them, a scratch tensor otherwise.
 *  - flashProgram (prefill): a workgroup owns 64 query rows of one (b, n); it walks the keys in
 *    tiles of BC staged in workgroup memory, each invocation keeping its row's running max, sum and
 *    output accumulator (online softmax): no S x T matrix exists anywhere.
 *  - decodeProgram + combineProgram (one query row): the keys are split across workgroups, each
 *    reduces its share to (max, sum, accumulator); a second pass merges the partials.
 * Masks and windows are WGSL functions generated from a MaskSpec, read straight from the mask inputs.
 */

/** Where a tensor comes from: a node input, a node output or a scratch tensor, with its meta. */
export interface Src {
  readonly ref: BufferRef;
  readonly meta: TensorMeta;
}

function bind(b: ShaderBuilder, name: string, src: Src, access: 'read' | 'read_write' = 'read'): TensorVar {
  const meta = src.meta.dims.length ? src.meta : { ...src.meta, dims: [1] };
  if (src.ref.kind === 'input') return b.input(name, meta, src.ref.index);
  if (src.ref.kind === 'output') return b.output(name, meta, src.ref.index);
  // the backend lays out scratch tensors as read-write storage whichever way a program uses them
  void access;
  return b.temp(name, meta, src.ref.index, 'read_write');
}

export interface GatherSpec {
  readonly label: string;
  readonly dst: Src;
  /** element offset of this [B, heads, Tbuf, hd] block in dst (present of com.microsoft Attention holds K then V) */
  readonly dstBase: number;
  readonly B: number;
  readonly heads: number;
  readonly Tbuf: number;
  readonly hd: number;
  readonly src: Src;
  readonly layout: HeadLayout;
  /** new rows per batch */
  readonly L: number;
  /** K/V: new rows go after the batch's past rows; Q: rows start at 0 (the past length still sets rotary positions) */
  readonly afterPast: boolean;
  readonly past?: { readonly src: Src; readonly rowsPerHead: number; readonly base?: number };
  /**
   * rows of past per batch: a constant, GroupQueryAttention's seqlens_k (+1 - S unless first prompt),
   * or kiln.KvCacheAttention's offset (one float32 value: the cache rows written before the step)
   */
  readonly pastLen: { readonly kind: 'const'; readonly value: number } | { readonly kind: 'seqlens'; readonly src: Src; readonly S: number; readonly prompt: boolean } | { readonly kind: 'offset'; readonly src: Src };
  readonly bias?: { readonly src: Src; readonly at: number };
  readonly rotary?: { readonly cos: Src; readonly sin: Src; readonly dim: number; readonly interleaved: boolean; readonly positionIds?: Src };
}

/** WGSL for the past length of batch b (GroupQueryAttention reads it from seqlens_k). */
function pastLenFn(b: ShaderBuilder, spec: GatherSpec['pastLen'], name = 'SL'): string {
  if (spec.kind === 'const') return `fn past_len(b: u32) -> u32 { return ${spec.value}u; }`;
  const sl = bind(b, name, spec.src);
  if (spec.kind === 'offset') return `fn past_len(b: u32) -> u32 { return u32(max(${sl.get('0u')}, 0.0)); }`;
  return spec.prompt
    ? 'fn past_len(b: u32) -> u32 { return 0u; }'
    : `fn past_len(b: u32) -> u32 { return u32(max(${sl.get('b')} + 1 - ${spec.S}, 0)); }`;
}

export function gatherProgram(g: GatherSpec, caps: GpuCaps): GpuProgram {
  const b = new ShaderBuilder(caps);
  const dst = bind(b, 'DST', g.dst, 'read_write');
  const src = bind(b, 'SRC', g.src);
  const past = g.past && bind(b, 'PAST', g.past.src);
  const bias = g.bias && bind(b, 'BIAS', g.bias.src);
  const rot = g.rotary && { cos: bind(b, 'COS', g.rotary.cos), sin: bind(b, 'SIN', g.rotary.sin), ids: g.rotary.positionIds && bind(b, 'POS', g.rotary.positionIds) };
  b.helper('past_len', pastLenFn(b, g.pastLen));
  const total = g.B * g.heads * g.Tbuf * g.hd;
  const u = {
    total: b.uniform('total', 'u32', total),
    base: b.uniform('src_base', 'u32', g.layout.base),
    sb: b.uniform('src_sb', 'u32', g.layout.sb),
    sl: b.uniform('src_sl', 'u32', g.layout.sl),
    sn: b.uniform('src_sn', 'u32', g.layout.sn),
    dstBase: b.uniform('dst_base', 'u32', g.dstBase),
  };
  const { hd, heads, Tbuf, L } = g;
  const L2: string[] = [];
  const line = (t: string): void => void L2.push(`  ${t}`);
  line(`if (global_idx >= ${u.total}) { return; }`);
  line(`let h = global_idx % ${hd}u;`);
  line(`let t = (global_idx / ${hd}u) % ${Tbuf}u;`);
  line(`let n = (global_idx / ${hd * Tbuf}u) % ${heads}u;`);
  line(`let bb = global_idx / ${hd * Tbuf * heads}u;`);
  line('let pastRows = past_len(bb);');
  line(`let P = ${g.afterPast ? 'pastRows' : '0u'};`);
  line('var value = 0.0;');
  if (past) line(`if (t < P) { value = ${past.get(`${g.past!.base ?? 0}u + ((bb * ${heads}u + n) * ${g.past!.rowsPerHead}u + t) * ${hd}u + h`)}; }`);
  line(`${past ? 'else ' : ''}if (t < P + ${L}u) {`);
  line('  let l = t - P;');
  line(`  let row = ${u.base} + bb * ${u.sb} + l * ${u.sl} + n * ${u.sn};`);
  const at = (hh: string): string => `${src.get(`row + ${hh}`)}${bias ? ` + ${bias.get(`${g.bias!.at}u + n * ${hd}u + ${hh}`)}` : ''}`;
  line(`  value = ${at('h')};`);
  if (rot) {
    const dim = g.rotary!.dim, half = dim / 2;
    line(`  if (h < ${dim}u) {`);
    line(`    let pos = ${rot.ids ? `u32(${rot.ids.get(`bb * ${L}u + l`)})` : 'pastRows + l'};`);
    if (g.rotary!.interleaved) {
      line('    let i = h / 2u;');
      line('    let odd = (h & 1u) == 1u;');
      line(`    let other = ${at('(h ^ 1u)')};`);
    } else {
      line(`    let i = h % ${half}u;`);
      line(`    let odd = h >= ${half}u;`);
      line(`    let other = ${at(`select(h + ${half}u, h - ${half}u, odd)`)};`);
    }
    line(`    let c = ${rot.cos.get(`pos * ${half}u + i`)};`);
    line(`    let s = ${rot.sin.get(`pos * ${half}u + i`)};`);
    line('    value = select(value * c - other * s, value * c + other * s, odd);');
    line('  }');
  }
  line('}');
  line(dst.set(`${u.dstBase} + global_idx`, 'value'));
  return b.build({ label: g.label, body: L2.join('\n'), totalInvocations: total, workgroupSize: 64 });
}

/** What masks a query row: contrib additive masks, an attention bias, GQA's causal window. */
export interface MaskSpec {
  readonly contrib?: { readonly kind: ContribMaskKind; readonly src?: Src; readonly filter: number; readonly causal: boolean; readonly megatronSize: number };
  readonly attnBias?: Src;
  /** GroupQueryAttention: keys [lo, past + s + 1) */
  readonly gqa?: { readonly pastLen: GatherSpec['pastLen']; readonly window: number };
  /** ai.onnx Attention: attn_mask (dims right-aligned to 4, last dim maybe short), is_causal, nonpad_kv_seqlen */
  readonly onnx?: { readonly mask?: Src; readonly maskDims?: readonly number[]; readonly bool: boolean; readonly causal: boolean; readonly nonpad?: Src };
  /** past rows (contrib causal and Megatron masks) */
  readonly past: number;
}

export interface FlashSpec {
  readonly label: string;
  readonly B: number;
  readonly N: number;
  readonly Nkv: number;
  readonly S: number;
  readonly T: number;
  readonly Tbuf: number;
  readonly H: number;
  readonly Hv: number;
  readonly q: Src;
  readonly k: Src;
  readonly kBase: number;
  readonly v: Src;
  readonly vBase: number;
  /**
   * flashProgram only: read Q, K and V where the op's inputs hold them ([B, S, N * H] and the like,
   * no past, no bias) instead of gathered [B, heads, T, H] buffers: no gather dispatches
   */
  readonly direct?: { readonly q: HeadLayout; readonly k: HeadLayout; readonly v: HeadLayout };
  readonly out: Src;
  /** output [B, N, S, Hv] (ai.onnx 4-D) instead of [B, S, N, Hv] */
  readonly outBnsh?: boolean;
  readonly scale: number;
  readonly softcap: number;
  readonly smooth: boolean;
  readonly mask: MaskSpec;
}

/** Declares the mask bindings and returns WGSL for att_window(b, s) -> vec2<u32> and att_add(b, n, s, t) -> f32. */
function maskFunctions(b: ShaderBuilder, f: FlashSpec): void {
  const { S, T, N } = f;
  const m = f.mask;
  if (m.gqa) {
    b.helper('past_len', pastLenFn(b, m.gqa.pastLen, 'SLK'));
    const w = m.gqa.window;
    b.helper('att_window', [
      'fn att_window(b: u32, s: u32) -> vec2<u32> {',
      '  let hi = past_len(b) + s + 1u;',
      w >= 0 ? `  return vec2<u32>(select(0u, hi - ${w + 1}u, hi > ${w + 1}u), min(hi, ${f.Tbuf}u));` : `  return vec2<u32>(0u, min(hi, ${f.Tbuf}u));`,
      '}',
    ].join('\n'));
  } else if (m.contrib && causalSkipEnd(m.contrib.kind, m.contrib.causal, S, m.contrib.filter, !!m.attnBias)) {
    // keys past the diagonal have weight exactly 0 (contrib-mask.ts causalSkipEnd): skip them
    b.helper('att_window', `fn att_window(b: u32, s: u32) -> vec2<u32> { return vec2<u32>(0u, min(${T}u, ${m.past}u + s + 1u)); }`);
  } else b.helper('att_window', `fn att_window(b: u32, s: u32) -> vec2<u32> { return vec2<u32>(0u, ${T}u); }`);
  const terms: string[] = [];
  const c = m.contrib;
  if (c && (c.kind !== 'none' || (c.causal && S > 1))) {
    const M = c.src && c.kind !== 'none' ? bind(b, 'MASK', c.src) : undefined;
    const visible = ((): string => {
      switch (c.kind) {
        case 'none': return 'true';
        case 'end': return `t < u32(max(${M!.get('b')}, 0))`;
        case 'end-start': return `t < u32(max(${M!.get('b')}, 0)) && t >= min(u32(max(${M!.get(`b + ${f.B}u`)}, 0)), ${T}u)`;
        case 'keys': return `${M!.get(`b * ${T}u + t`)} > 0`;
        case 'rows': return `${M!.get(`(b * ${S}u + s) * ${T}u + t`)} > 0`;
        case 'megatron': return `${M!.get(`(b * ${c.megatronSize}u + ${m.past}u + s) * ${c.megatronSize}u + t`)} > 0`;
      }
    })();
    const future = c.causal && S > 1 ? `t > ${m.past}u + s || ` : '';
    b.helper('att_mask', `fn att_mask(b: u32, s: u32, t: u32) -> f32 { return select(0.0, f32(${c.filter}), ${future}!(${visible})); }`);
    terms.push('att_mask(b, s, t)');
  }
  if (m.onnx) {
    const o = m.onnx;
    const MK = o.mask && bind(b, 'AMASK', o.mask);
    const NP = o.nonpad && bind(b, 'NONPAD', o.nonpad);
    const lines = ['fn att_onnx(b: u32, n: u32, s: u32, t: u32) -> f32 {'];
    if (o.causal) lines.push(`  if (i32(t) > ${NP ? `${NP.get('b')} - ${S}` : `${m.past}`} + i32(s)) { return ${LOWEST}; }`);
    if (NP) lines.push(`  if (i32(t) >= ${NP.get('b')}) { return ${LOWEST}; }`);
    if (MK && o.maskDims) {
      const [d0, d1, d2, d3] = o.maskDims as [number, number, number, number];
      lines.push(`  if (t >= ${d3}u) { return ${LOWEST}; }`);
      const idx = `((${d0 === 1 ? '0u' : 'b'} * ${d1}u + ${d1 === 1 ? '0u' : 'n'}) * ${d2}u + ${d2 === 1 ? '0u' : 's'}) * ${d3}u + t`;
      lines.push(o.bool ? `  if (${MK.get(idx)} == 0u) { return ${LOWEST}; }` : `  return ${MK.get(idx)};`);
    }
    lines.push('  return 0.0;', '}');
    b.helper('att_onnx', lines.join('\n'));
    terms.push('att_onnx(b, n, s, t)');
  }
  if (m.attnBias) {
    const A = bind(b, 'ABIAS', m.attnBias);
    const [db, dn] = m.attnBias.meta.dims as number[];
    const idx = `((${db === 1 ? '0u' : 'b'} * ${dn}u + ${dn === 1 ? '0u' : 'n'}) * ${S}u + s) * ${T}u + t`;
    terms.push(A.get(idx));
  }
  void N;
  b.helper('att_add', `fn att_add(b: u32, n: u32, s: u32, t: u32) -> f32 { return ${terms.length ? terms.join(' + ') : '0.0'}; }`);
}

/** float32's lowest value: a masked key's score (scores at or below MASKED leave the softmax) */
const LOWEST = '-3.402823e38';
const MASKED = '-3.0e38';

/**
 * score for one key: scale, softcap (before the additive terms, as GroupQueryAttention and the
 * ONNX conformance data do), add; clamped to LOWEST so -inf masks never meet inf - inf.
 */
function scoreExpr(f: FlashSpec, dot: string): string {
  const scaled = `(${dot}) * ${f32(f.scale)}`;
  const capped = f.softcap > 0 ? `${f32(f.softcap)} * tanh(${scaled} / ${f32(f.softcap)})` : scaled;
  return `max(${capped} + att_add(b, n, s, t), ${LOWEST})`;
}

const f32 = (x: number): string => {
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
};

const BR = 64;

/** K and V may live in one buffer (present of com.microsoft Attention): a writable buffer binds once. */
function bindKv(b: ShaderBuilder, f: FlashSpec): [TensorVar, TensorVar] {
  const K = bind(b, 'K', f.k);
  const same = f.v.ref.kind === f.k.ref.kind && f.v.ref.index === f.k.ref.index;
  return [K, same ? K : bind(b, 'V', f.v)];
}

/** Keys staged per tile: as many as fit 12 KiB of workgroup memory, 4..32. */
function keysPerTile(H: number, Hv: number): number {
  let bc = 32;
  while (bc > 4 && bc * (H + Hv) * 4 > 12288) bc /= 2;
  return bc;
}

export function flashProgram(f: FlashSpec, caps: GpuCaps): GpuProgram {
  const b = new ShaderBuilder(caps);
  const Q = bind(b, 'Q', f.q);
  const [K, V] = bindKv(b, f);
  const O = bind(b, 'O', f.out, 'read_write');
  maskFunctions(b, f);
  const { H, Hv, N, Nkv, S, Tbuf } = f;
  const BC = keysPerTile(H, Hv);
  const qTiles = Math.ceil(S / BR);
  b.helper('flash_shared', [
    `var<workgroup> kt: array<f32, ${BC * H}>;`,
    `var<workgroup> vt: array<f32, ${BC * Hv}>;`,
    'var<workgroup> span_lo: atomic<u32>;',
    'var<workgroup> span_hi: atomic<u32>;',
    'var<workgroup> span: vec2<u32>;',
  ].join('\n'));
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`let tile = workgroup_idx % ${qTiles}u;`);
  line(`let n = (workgroup_idx / ${qTiles}u) % ${N}u;`);
  line(`let b = workgroup_idx / ${qTiles * N}u;`);
  line(`let s = tile * ${BR}u + local_idx;`);
  line(`let live = s < ${S}u && b < ${f.B}u;`);
  line(`let kv = (b * ${Nkv}u + n / ${N / Nkv}u) * ${Tbuf}u;`);
  const d = f.direct;
  const at = (l: HeadLayout, row: string, head: string, h: string): string => `${l.base}u + b * ${l.sb}u + (${row}) * ${l.sl}u + ${head} * ${l.sn}u + ${h}`;
  const qAt = d ? at(d.q, 's', 'n', 'h') : `((b * ${N}u + n) * ${S}u + s) * ${H}u + h`;
  // a key row past the end reads a clamped row (select discards it) rather than another head's data
  const kAt = d ? at(d.k, `min(tt, ${Tbuf - 1}u)`, `(n / ${N / Nkv}u)`, `i % ${H}u`) : `${f.kBase}u + (kv + tt) * ${H}u + i % ${H}u`;
  const vAt = d ? at(d.v, `min(tt, ${Tbuf - 1}u)`, `(n / ${N / Nkv}u)`, `i % ${Hv}u`) : `${f.vBase}u + (kv + tt) * ${Hv}u + i % ${Hv}u`;
  line(`var q: array<f32, ${H}>;`);
  line(`var acc: array<f32, ${Hv}>;`);
  line('var win = vec2<u32>(0u, 0u);');
  line('if (live) {');
  line(`  for (var h = 0u; h < ${H}u; h++) { q[h] = ${Q.get(qAt)}; }`);
  line('  win = att_window(b, s);');
  line('}');
  line('if (local_idx == 0u) { atomicStore(&span_lo, 0xffffffffu); atomicStore(&span_hi, 0u); }');
  line('workgroupBarrier();');
  line('if (live && win.y > win.x) { atomicMin(&span_lo, win.x); atomicMax(&span_hi, win.y); }');
  line('workgroupBarrier();');
  line('if (local_idx == 0u) { span = vec2<u32>(atomicLoad(&span_lo), atomicLoad(&span_hi)); }');
  // the key span must be uniform across the workgroup: the barriers in the loop below need it
  line('let sp = workgroupUniformLoad(&span);');
  line('let lo = sp.x;');
  line('let hi = sp.y;');
  line('var m = 0.0;');
  line('var l = 0.0;');
  line(`for (var t0 = (lo / ${BC}u) * ${BC}u; t0 < hi; t0 += ${BC}u) {`);
  line('  workgroupBarrier();');
  line(`  for (var i = local_idx; i < ${BC * H}u; i += ${BR}u) {`);
  line(`    let tt = t0 + i / ${H}u;`);
  line(`    kt[i] = select(0.0, ${K.get(kAt)}, tt < ${Tbuf}u);`);
  line('  }');
  line(`  for (var i = local_idx; i < ${BC * Hv}u; i += ${BR}u) {`);
  line(`    let tt = t0 + i / ${Hv}u;`);
  line(`    vt[i] = select(0.0, ${V.get(vAt)}, tt < ${Tbuf}u);`);
  line('  }');
  line('  workgroupBarrier();');
  line(`  for (var j = 0u; j < select(0u, ${BC}u, live); j++) {`);
  line('    let t = t0 + j;');
  line('    if (t < win.x || t >= win.y) { continue; }');
  line('    var dot = 0.0;');
  line(`    for (var h = 0u; h < ${H}u; h++) { dot += q[h] * kt[j * ${H}u + h]; }`);
  line(`    let x = ${scoreExpr(f, 'dot')};`);
  line(`    if (x <= ${MASKED}) { continue; }`);
  line('    if (l == 0.0) {');
  line(`      m = x; l = 1.0; for (var h = 0u; h < ${Hv}u; h++) { acc[h] = vt[j * ${Hv}u + h]; }`);
  line('    } else if (x > m) {');
  line('      let c = exp(m - x); m = x; l = l * c + 1.0;');
  line(`      for (var h = 0u; h < ${Hv}u; h++) { acc[h] = acc[h] * c + vt[j * ${Hv}u + h]; }`);
  line('    } else {');
  line('      let w = exp(x - m); l += w;');
  line(`      for (var h = 0u; h < ${Hv}u; h++) { acc[h] += w * vt[j * ${Hv}u + h]; }`);
  line('    }');
  line('  }');
  line('}');
  line('if (!live) { return; }');
  if (f.smooth) {
    // smooth softmax: one more logit of 0 in the denominator
    line('if (l == 0.0) { m = 0.0; } let mm = max(m, 0.0); let cc = exp(m - mm); l = l * cc + exp(-mm);');
    line(`for (var h = 0u; h < ${Hv}u; h++) { acc[h] *= cc; }`);
  }
  line('let inv = select(0.0, 1.0 / l, l > 0.0);');
  line(f.outBnsh ? `let o = ((b * ${N}u + n) * ${S}u + s) * ${Hv}u;` : `let o = ((b * ${S}u + s) * ${N}u + n) * ${Hv}u;`);
  line(`for (var h = 0u; h < ${Hv}u; h++) { ${O.set('o + h', 'acc[h] * inv')} }`);
  const groups = f.B * N * qTiles;
  return b.build({ label: f.label, body: L.join('\n'), totalInvocations: groups * BR, workgroupSize: BR });
}

const DW = 64;

/** How many workgroups share one decode row's keys: ~128 keys each, at most 64 splits. */
export function decodeSplits(T: number): number {
  return Math.max(1, Math.min(64, Math.ceil(T / 128)));
}

/** One query row per (b, n) (S == 1): partials [B * N * splits, Hv + 2] = (max, sum, accumulator). */
export function decodeProgram(f: FlashSpec, partials: Src, caps: GpuCaps): GpuProgram {
  const b = new ShaderBuilder(caps);
  const Q = bind(b, 'Q', f.q);
  const [K, V] = bindKv(b, f);
  const PT = bind(b, 'PART', partials, 'read_write');
  maskFunctions(b, f);
  const { H, Hv, N, Nkv, Tbuf } = f;
  const splits = decodeSplits(f.T);
  b.helper('decode_shared', [
    `var<workgroup> qs: array<f32, ${H}>;`,
    `var<workgroup> w: array<f32, ${DW}>;`,
    'var<workgroup> stat: array<f32, 3>;',
  ].join('\n'));
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`let split = workgroup_idx % ${splits}u;`);
  line(`let n = (workgroup_idx / ${splits}u) % ${N}u;`);
  line(`let b = workgroup_idx / ${splits * N}u;`);
  line('let s = 0u;');
  line(`let kv = (b * ${Nkv}u + n / ${N / Nkv}u) * ${Tbuf}u;`);
  line(`for (var h = local_idx; h < ${H}u; h += ${DW}u) { qs[h] = ${Q.get(`(b * ${N}u + n) * ${H}u + h`)}; }`);
  line('let win = att_window(b, 0u);');
  line(`let chunk = (win.y - min(win.x, win.y) + ${splits - 1}u) / ${splits}u;`);
  line('let lo = win.x + split * chunk;');
  line('let hi = min(win.y, lo + chunk);');
  line(`var acc: array<f32, ${Math.ceil(Hv / DW)}>;`);
  line('var m = 0.0;');
  line('var l = 0.0;');
  line('workgroupBarrier();');
  line(`for (var t0 = lo; t0 < hi; t0 += ${DW}u) {`);
  line('  let t = t0 + local_idx;');
  line('  var x = 0.0;');
  line('  if (t < hi) {');
  line('    var dot = 0.0;');
  line(`    for (var h = 0u; h < ${H}u; h++) { dot += qs[h] * ${K.get(`${f.kBase}u + (kv + t) * ${H}u + h`)}; }`);
  line(`    x = ${scoreExpr(f, 'dot')};`);
  line('  }');
  line('  w[local_idx] = x;');
  line('  workgroupBarrier();');
  line('  if (local_idx == 0u) {');
  line(`    let cnt = min(${DW}u, hi - t0);`);
  line('    var mx = w[0];');
  line('    for (var j = 1u; j < cnt; j++) { mx = max(mx, w[j]); }');
  line('    let mnew = select(mx, max(m, mx), l > 0.0);');
  line('    let c = select(0.0, exp(m - mnew), l > 0.0);');
  line('    var sum = 0.0;');
  line(`    for (var j = 0u; j < cnt; j++) { let e = select(exp(w[j] - mnew), 0.0, w[j] <= ${MASKED}); w[j] = e; sum += e; }`);
  line('    stat[0] = mnew; stat[1] = c; stat[2] = l * c + sum;');
  line('  }');
  line('  workgroupBarrier();');
  line('  m = stat[0]; let c = stat[1]; l = stat[2];');
  line(`  let cnt = min(${DW}u, hi - t0);`);
  line(`  for (var i = 0u; i < ${Math.ceil(Hv / DW)}u; i++) {`);
  line(`    let h = local_idx + i * ${DW}u;`);
  line(`    if (h >= ${Hv}u) { break; }`);
  line('    var a = acc[i] * c;');
  line(`    for (var j = 0u; j < cnt; j++) { a += w[j] * ${V.get(`${f.vBase}u + (kv + t0 + j) * ${Hv}u + h`)}; }`);
  line('    acc[i] = a;');
  line('  }');
  line('  workgroupBarrier();');
  line('}');
  line(`let base = workgroup_idx * ${Hv + 2}u;`);
  line(`if (local_idx == 0u) { ${PT.set('base', 'm')} ${PT.set('base + 1u', 'l')} }`);
  line(`for (var i = 0u; i < ${Math.ceil(Hv / DW)}u; i++) { let h = local_idx + i * ${DW}u; if (h < ${Hv}u) { ${PT.set('base + 2u + h', 'acc[i]')} } }`);
  return b.build({ label: `${f.label}:decode`, body: L.join('\n'), totalInvocations: f.B * N * splits * DW, workgroupSize: DW });
}

/** Merges the decode partials of each (b, n) into the output row [B, 1, N, Hv]. */
export function combineProgram(f: FlashSpec, partials: Src, caps: GpuCaps): GpuProgram {
  const b = new ShaderBuilder(caps);
  const PT = bind(b, 'PART', partials);
  const O = bind(b, 'O', f.out, 'read_write');
  const { Hv, N } = f;
  const splits = decodeSplits(f.T);
  const total = f.B * N * Hv;
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${total}u) { return; }`);
  line(`let h = global_idx % ${Hv}u;`);
  line(`let row = global_idx / ${Hv}u;`);
  line(`let first = row * ${splits}u;`);
  line(`var mx = ${f.smooth ? '0.0' : '-3.0e38'};`);
  line(`for (var i = 0u; i < ${splits}u; i++) { let p = (first + i) * ${Hv + 2}u; if (${PT.get('p + 1u')} > 0.0) { mx = max(mx, ${PT.get('p')}); } }`);
  line(`var den = ${f.smooth ? 'exp(-mx)' : '0.0'};`);
  line('var num = 0.0;');
  line(`for (var i = 0u; i < ${splits}u; i++) {`);
  line(`  let p = (first + i) * ${Hv + 2}u;`);
  line(`  let li = ${PT.get('p + 1u')};`);
  line('  if (li > 0.0) {');
  line(`    let c = exp(${PT.get('p')} - mx);`);
  line('    den += li * c;');
  line(`    num += ${PT.get('p + 2u + h')} * c;`);
  line('  }');
  line('}');
  line(O.set('global_idx', 'select(0.0, num / den, den > 0.0)'));
  return b.build({ label: `${f.label}:combine`, body: L.join('\n'), totalInvocations: total, workgroupSize: 64 });
}
