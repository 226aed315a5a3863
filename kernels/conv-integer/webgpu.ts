import { product } from '../common/shape.ts';
import { tapsAlwaysInside, type ConvGeometry } from '../common/conv-attributes.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuCaps, GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { convIntegerPlan, perChannel } from './op.ts';
import { intConvDwApplies, intConvDwProgram } from './webgpu-dw.ts';

// ---------------------------------------------------------------------------------------------
// WebGPU core: implicit GEMM as in conv.ts, in i32. Each invocation owns TM output channels of
// one group x TN output positions; taps outside, input channels inside, so the bounds checks of
// a (tap, position) are paid once per tap.
// ---------------------------------------------------------------------------------------------

export interface IntConvGpuSpec {
  readonly b: ShaderBuilder;
  readonly X: TensorVar;
  readonly W: TensorVar;
  readonly Y: TensorVar;
  readonly geo: ConvGeometry;
  /** WGSL i32 expressions: the input zero point, the weight zero point of output channel `co` */
  readonly xzp: string;
  readonly wzp: (co: string) => string;
  /** WGSL i32 expression of x's integer value at flat offset `off` (default: the stored element) */
  readonly loadX?: (off: string) => string;
  /**
   * The hardware form: four input channels at a time through dot4I8Packed (WGSL's
   * packed_4x8_integer_dot_product), uint8 operands shifted by -128 into int8 (zero points too, so
   * every product (x - xz)(w - wz) is unchanged and the i32 sums are exact). Needs x's and w's
   * signedness (x may be a float quantized on load).
   */
  readonly dot4?: { readonly xSigned: boolean; readonly wSigned: boolean };
  /**
   * statements storing accumulator `acc` (i32) of output channel `co` at flat offset `o`;
   * `chv` is `perChannel`'s value for that channel, `chb` `channelBias`'s ('0' without one)
   */
  readonly epilogue: (acc: string, co: string, o: string, chv: string, chb: string) => string;
  /** an f32 expression of output channel `co`, computed once per channel of the tile, not per element (the requantization multiplier) */
  readonly perChannel?: (co: string) => string;
  /** an i32 expression of output channel `co` (the bias), read once per channel of the tile; `chb` in the epilogue */
  readonly channelBias?: (co: string) => string;
  /** statements run once before the epilogue (per-invocation values such as the output zero point) */
  readonly epilogueLets?: readonly string[];
  /** straight-line epilogue per element (short epilogues); else a loop over arrays (long requantization helpers) */
  readonly unrollEpilogue?: boolean;
  readonly label: string;
}

/**
 * The register tile: TM output channels x TN positions. On software adapters (SwiftShader) loads
 * per multiply-add decide the speed, as for the float conv (conv/webgpu-tiles.ts): 16 x 8 there;
 * hardware GPUs keep 4 x 4 (accumulators in registers).
 */
export function intConvTile(g: ConvGeometry, caps: GpuCaps): { readonly tm: number; readonly tn: number } {
  const maxTm = caps.software ? 16 : 4;
  return { tm: g.coutG >= maxTm ? maxTm : g.coutG >= 8 && caps.software ? 8 : Math.min(4, g.coutG), tn: caps.software ? 8 : 4 };
}

/** Where a form's tile puts its results: accumulator (i32 expression), channel and output offset (u32) per tile element. */
export interface IntConvTileOut {
  readonly tm: number;
  /** positions per channel of the tile */
  readonly tn: number;
  readonly accOf: (i: number, j: number) => string;
  readonly chOf: (i: number) => string;
  /** offset of position j in channel 0 (the channel adds `ch * out_s`) */
  readonly outOf: (j: number) => string;
  readonly channelOk: (i: number) => string;
  readonly posOk: (j: number) => string;
}

/**
 * The tile's stores through `spec.epilogue`. Per-channel values (multiplier, bias) are read once per
 * channel of the tile. Unrolled, each element is straight-line code over named values; otherwise a
 * loop over arrays (dynamic indexing of private arrays is slow on SwiftShader, but long
 * requantization helpers inlined 128 times make huge pipelines).
 */
export function intConvEpilogue(L: string[], spec: IntConvGpuSpec, t: IntConvTileOut): void {
  const line = (x: string): void => void L.push(`  ${x}`);
  const { tm, tn } = t;
  const indent = (text: string, pad: string): string => text.split('\n').map((x) => `${pad}${x}`).join('\n');
  for (const x of spec.epilogueLets ?? []) line(x);
  if (spec.unrollEpilogue) {
    for (let i = 0; i < tm; i++) {
      if (spec.perChannel) line(`let chv${i} = ${spec.perChannel(t.chOf(i))};`);
      if (spec.channelBias) line(`let chb${i} = ${spec.channelBias(t.chOf(i))};`);
    }
    for (let j = 0; j < tn; j++) line(`let out${j} = ${t.outOf(j)}; let pok${j} = ${t.posOk(j)};`);
    for (let i = 0; i < tm; i++) {
      line(`if (${t.channelOk(i)}) {`);
      for (let j = 0; j < tn; j++) {
        line(`  if (pok${j}) {`);
        L.push(indent(spec.epilogue(t.accOf(i, j), t.chOf(i), `out${j} + ${t.chOf(i)} * out_s`, spec.perChannel ? `chv${i}` : '0.0', spec.channelBias ? `chb${i}` : '0'), '      '));
        line('  }');
      }
      line('}');
    }
    return;
  }
  const list = (xs: string[]): string => xs.join(', ');
  line(`var accs = array<i32, ${tm * tn}>(${list(Array.from({ length: tm * tn }, (_, k) => t.accOf(Math.floor(k / tn), k % tn)))});`);
  line(`var chs = array<u32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => t.chOf(i)))});`);
  const perChannel = spec.perChannel;
  if (perChannel) line(`var chv = array<f32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => perChannel(t.chOf(i))))});`);
  const bias = spec.channelBias;
  if (bias) line(`var chb = array<i32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => bias(t.chOf(i))))});`);
  line(`var outs = array<u32, ${tn}>(${list(Array.from({ length: tn }, (_, j) => t.outOf(j)))});`);
  line(`var poks = array<bool, ${tn}>(${list(Array.from({ length: tn }, (_, j) => t.posOk(j)))});`);
  line(`var cok = array<bool, ${tm}>(${list(Array.from({ length: tm }, (_, i) => t.channelOk(i)))});`);
  line(`for (var t = 0u; t < ${tm * tn}u; t++) {`);
  line(`  let ti = t / ${tn}u; let tj = t % ${tn}u;`);
  line('  if (!cok[ti] || !poks[tj]) { continue; }');
  line('  let co = chs[ti];');
  line('  let o = outs[tj] + co * out_s;');
  L.push(indent(spec.epilogue('accs[t]', 'co', 'o', perChannel ? 'chv[ti]' : '0.0', bias ? 'chb[ti]' : '0'), '    '));
  line('}');
}

export function intConvProgram(spec: IntConvGpuSpec): GpuProgram {
  if (intConvDwApplies(spec.geo)) return intConvDwProgram(spec);
  const { b, X, W, Y, geo: g } = spec;
  const { tm, tn: TN } = intConvTile(g, b.caps);
  const s = g.inDims.length;
  const S = product(g.outDims);
  const N = g.batch * S;
  const T = product(g.kernel);
  const checks = !tapsAlwaysInside(g);
  const npb = Math.ceil(N / TN);
  const ncb = Math.ceil(g.coutG / tm);
  const total = N === 0 || g.coutG === 0 ? 0 : g.group * ncb * npb;
  const u = {
    total: b.uniform('total', 'u32', total),
    npb: b.uniform('npb', 'u32', npb),
    ncb: b.uniform('ncb', 'u32', ncb),
    n: b.uniform('npix', 'u32', N),
    cinG: b.uniform('cin_g', 'u32', g.cinG),
    coutG: b.uniform('cout_g', 'u32', g.coutG),
    taps: b.uniform('taps', 'u32', T),
  };
  const strides = b.uniformArray('conv_strides', 'i32', g.strides);
  const dil = b.uniformArray('conv_dil', 'i32', g.dilations);
  const pads = b.uniformArray('conv_pads', 'i32', g.padBegin);
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${u.total}) { return; }`);
  line(`let pb = global_idx % ${u.npb};`);
  line(`let grp = (global_idx / ${u.npb}) / ${u.ncb};`);
  line(`let co0 = ((global_idx / ${u.npb}) % ${u.ncb}) * ${tm}u;`);
  line(`let cin_g = ${u.cinG}; let cout_g = ${u.coutG}; let ntaps = ${u.taps};`);
  line(`let in_s = ${X.stride(1)};`);
  line(`let out_s = ${Y.stride(1)};`);
  line(`let xzp = ${spec.xzp};`);
  for (let d = 0; d < s; d++) line(`let in${d} = ${X.shape(2 + d)}; let k${d} = ${W.shape(2 + d)}; let st${d} = ${strides}(${d}u); let dl${d} = ${dil}(${d}u);`);
  for (let j = 0; j < TN; j++) {
    line(`let q${j} = min(pb * ${TN}u + ${j}u, ${u.n} - 1u);`);
    line(`let bt${j} = q${j} / out_s;`);
    line(`let sp${j} = q${j} % out_s;`);
    line(`var rest${j} = sp${j};`);
    for (let d = s - 1; d >= 0; d--) {
      line(`let org${j}_${d} = i32(rest${j} % ${Y.shape(2 + d)}) * st${d} - ${pads}(${d}u); rest${j} = rest${j} / ${Y.shape(2 + d)};`);
    }
    line(`let xb${j} = bt${j} * ${X.stride(0)} + grp * cin_g * in_s;`);
  }
  for (let i = 0; i < tm; i++) {
    line(`let ch${i} = grp * cout_g + min(co0 + ${i}u, cout_g - 1u);`);
    line(`let wr${i} = ch${i} * cin_g * ntaps;`);
    line(`let wz${i} = ${spec.wzp(`ch${i}`)};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`var acc${i}_${j} = 0;`);
  line('for (var tap = 0u; tap < ntaps; tap++) {');
  line('  var trest = tap;');
  for (let d = s - 1; d >= 0; d--) line(`  let kk${d} = i32(trest % k${d}); trest = trest / k${d};`);
  for (let j = 0; j < TN; j++) {
    const conds: string[] = [];
    const offs: string[] = [];
    for (let d = 0; d < s; d++) {
      line(`  let p${j}_${d} = org${j}_${d} + kk${d} * dl${d};`);
      conds.push(`u32(p${j}_${d}) < in${d}`);
      offs.push(`u32(p${j}_${d}) * ${X.stride(2 + d)}`);
    }
    if (checks) {
      line(`  let ok${j} = ${conds.join(' && ')};`);
      line(`  var xo${j} = xb${j} + select(0u, ${offs.join(' + ')}, ok${j});`);
    } else line(`  var xo${j} = xb${j} + ${offs.join(' + ')};`);
  }
  line('  var wo = tap;');
  line('  var ci = 0u;');
  // 1x1 convs over packed constant weights with cin_g % 4 == 0: the four input channels of an
  // output channel are one aligned u32 word, read once instead of four extractBits loads
  const wordW = W.packedPerWord === 4 && T === 1 && g.cinG % 4 === 0;
  const wWord = (i: number): string => `${W.name}[(wr${i} + wo) >> 2u]`;
  if (wordW && !spec.dot4) {
    line('  for (; ci + 4u <= cin_g; ci += 4u) {');
    for (let j = 0; j < TN; j++) {
      for (let c = 0; c < 4; c++) {
        const v = `${spec.loadX ? spec.loadX(`xo${j}`) : `i32(${X.get(`xo${j}`)})`} - xzp`;
        line(`    let x${j}_${c} = ${checks ? `select(0, ${v}, ok${j})` : v}; xo${j} += in_s;`);
      }
    }
    for (let i = 0; i < tm; i++) {
      line(`    let ww${i} = ${wWord(i)};`);
      for (let c = 0; c < 4; c++) {
        const byte = W.type === 'i32' ? `extractBits(bitcast<i32>(ww${i}), ${8 * c}u, 8u)` : `i32(extractBits(ww${i}, ${8 * c}u, 8u))`;
        line(`    let w${i}_${c} = ${byte} - wz${i};`);
      }
    }
    for (let c = 0; c < 4; c++) for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`    acc${i}_${j} += w${i}_${c} * x${j}_${c};`);
    line('    wo += 4u;');
    line('  }');
  }
  if (spec.dot4) {
    const xsh = spec.dot4.xSigned ? 0 : 128;
    const wsh = spec.dot4.wSigned ? 0 : 128;
    const xAt = (off: string): string => (spec.loadX ? spec.loadX(off) : `i32(${X.get(off)})`);
    line(`  let xz4 = xzp - ${xsh};`);
    line('  for (; ci + 4u <= cin_g; ci += 4u) {');
    for (let j = 0; j < TN; j++) {
      const v = `vec4<i32>(${[0, 1, 2, 3].map((c) => xAt(`xo${j} + ${c}u * in_s`)).join(', ')}) - vec4<i32>(${xsh})`;
      line(`    let xp${j} = pack4xI8(${checks ? `select(vec4<i32>(xz4), ${v}, ok${j})` : v}); xo${j} += 4u * in_s;`);
      line(`    let sx${j} = dot4I8Packed(xp${j}, 0x01010101u);`);
    }
    for (let i = 0; i < tm; i++) {
      // a packed word already holds the four bytes: uint8 - 128 as an int8 byte is the byte xor 0x80
      if (wordW) line(`    let wp${i} = ${wWord(i)}${wsh ? ' ^ 0x80808080u' : ''};`);
      else line(`    let wp${i} = pack4xI8(vec4<i32>(${[0, 1, 2, 3].map((c) => `i32(${W.get(`wr${i} + wo + ${c}u * ntaps`)})`).join(', ')}) - vec4<i32>(${wsh}));`);
      line(`    let wz4_${i} = wz${i} - ${wsh};`);
      line(`    let sw${i} = dot4I8Packed(wp${i}, 0x01010101u) - 4 * wz4_${i};`);
    }
    // sum (x - xz)(w - wz) = dot(x, w) - wz sum x - xz (sum w - 4 wz), all in the shifted (int8) domain
    for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`    acc${i}_${j} += dot4I8Packed(wp${i}, xp${j}) - wz4_${i} * sx${j} - xz4 * sw${i};`);
    line('    wo += 4u * ntaps;');
    line('  }');
  }
  line('  for (; ci < cin_g; ci++) {');
  for (let j = 0; j < TN; j++) {
    const v = `${spec.loadX ? spec.loadX(`xo${j}`) : `i32(${X.get(`xo${j}`)})`} - xzp`;
    line(`    let x${j} = ${checks ? `select(0, ${v}, ok${j})` : v}; xo${j} += in_s;`);
  }
  for (let i = 0; i < tm; i++) line(`    let w${i} = i32(${W.get(`wr${i} + wo`)}) - wz${i};`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`    acc${i}_${j} += w${i} * x${j};`);
  line('    wo += ntaps;');
  line('  }');
  line('}');
  const accOf = (i: number, j: number): string => `acc${i}_${j}`;
  const outOf = (j: number): string => `bt${j} * ${Y.stride(0)} + sp${j}`;
  intConvEpilogue(L, spec, { tm, tn: TN, accOf, chOf: (i) => `ch${i}`, outOf, channelOk: (i) => `co0 + ${i}u < cout_g`, posOk: (j) => `pb * ${TN}u + ${j}u < ${u.n}` });
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: total });
}

const convInteger: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  const p = convIntegerPlan(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const W = b.input('W', inputs[1]!, 1);
  const XZ = inputs[2] && b.input('XZ', gpuMeta(inputs[2]), 2);
  const wz = inputs[3];
  const WZ = wz && b.input('WZ', gpuMeta(wz), 3);
  const wzPer = perChannel(wz, p.geo.coutG * p.geo.group, ctx, 'w_zero_point');
  const Y = b.output('Y', outputs[0]!);
  if (ctx.caps.packedDot4x8 === true && !ctx.caps.software) b.directive('requires packed_4x8_integer_dot_product;');
  const program = intConvProgram({
    b, X, W, Y, geo: p.geo,
    xzp: XZ ? `i32(${XZ.get('0u')})` : '0',
    wzp: (co) => (WZ ? `i32(${WZ.get(wzPer ? co : '0u')})` : '0'),
    epilogue: (acc, _co, o) => Y.set(o, acc),
    unrollEpilogue: true,
    dot4: ctx.caps.packedDot4x8 === true && !ctx.caps.software ? { xSigned: inputs[0]!.dtype === 'int8', wSigned: inputs[1]!.dtype === 'int8' } : undefined,
    label: `ConvInteger:${ctx.node}`,
  });
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'ConvInteger')]: convInteger };
