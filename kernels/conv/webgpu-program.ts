/**
 * Conv (and, through the same code, ConvTranspose) on WebGPU: WGSL implicit GEMM.
 *
 * Measured on SwiftShader (Dawn via the `webgpu` package, 4-lane SIMD, `subgroups` present) on the
 * 2-core shared dev machine, 3x3 Conv 64->64 on 56x56, kernel time only (bench/node/conv-bench.ts
 * measures whole runs). The machine was loaded by other jobs, so wall times varied 2x run to run;
 * ratios of CPU time per run are the solid numbers.
 * - A storage load costs ~7 ns per lane whatever the index (constant, uniform, consecutive or
 *   random): a 4-lane gather with a bounds check per lane. A multiply-add is ~1-2 ns and a
 *   quadBroadcast ~3 ns. Loads per multiply-add decide the speed.
 * - 4x4 outputs per invocation, weights loaded by every lane: 0.4 GFLOP/s.
 * - Quad-shared weights (each lane loads 1/4 of the tile's weights, quadBroadcast hands them
 *   around), 16 channels x 8 positions: 2.2 GFLOP/s wall, 1.0 GFLOP per CPU-second.
 * - 'rows' form (8 consecutive positions of one output row per lane, each input value loaded
 *   once per kernel row and reused for all kw taps): 1.3-1.5 GFLOP per CPU-second, 2.3-3.7 wall.
 *   8 positions beat 12 or 16 (accumulator spills, 1-2.6 s JIT). 1 or 2 input channels per loop
 *   iteration: same speed within noise, but 2 doubles the JIT time (0.3 -> 0.57 s), so 1 (the
 *   taps form keeps 4: its per-tap loop is short). 16- vs 32-thread workgroups: no difference.
 * - Depthwise: the rows form with one channel reached 0.1 GFLOP per CPU-second; 'dw' blocks of
 *   4 rows x 8 positions reusing each input row for all kernel rows: 0.3 (64 channels at 56x56:
 *   ~5 ms instead of 17-46 ms). Baking the depthwise strides lets strided layers use it too:
 *   PP-OCRv4's 128-channel stride (1, 2) 3x3 layer went from 22 ms (generic form) to 4 ms.
 * - Strided 2-D Conv in the rows form (x stride baked) instead of the generic taps form: a 3-channel
 *   stride-2 first layer (96x128 -> 16 channels) 17.6 ms -> 2.5 ms; 3x3 stride 2 64->128 on 56x56:
 *   3.1 GFLOP/s.
 * - ConvTranspose 4x4 stride 2, 64 -> 32 channels, 56x56 -> 112x112: the generic gather form
 *   (3/4 of the taps land between input pixels and are masked) 0.26-0.29 GFLOP per CPU-second;
 *   'trows' (one column phase per invocation, loops over only the kernel rows/columns that feed
 *   it) 1.0-1.1. An `if` around the inapplicable taps gained nothing: SwiftShader runs masked
 *   branches anyway, so the skipping has to come from trip counts.
 * - 1x1: 8 positions per lane beat 16 (1.0-1.1 vs 0.7-0.9 GFLOP per CPU-second).
 * - WGSL '&&' chains in the bounds checks made SwiftShader's JIT take over 5 minutes on a 3-D
 *   ConvTranspose shader (short-circuit branches); non-short-circuit '&' compiles in 0.12 s.
 * Shapes, strides, pads and dilations stay uniforms: loads dominate, and uniform reads are hoisted
 * out of the loops. Baked are only what the unrolled reuse pattern depends on: the kernel width and
 * x stride/dilation (rows, trows forms), and for depthwise the kernel size, strides and dilations:
 * one pipeline per kernel pattern, never per tensor shape.
 */
import { activationOf, wgslActivation } from '../common/activation.ts';
import { epilogueExtras, epilogueOf, prologueOf, unaryEpilogueOf } from '../fused-elementwise/epilogue.ts';
import { epilogueLoads, roundsExactly, wgslEpilogue, wgslPrologue } from '../fused-elementwise/webgpu.ts';
import type { Program } from '../fused-elementwise/program.ts';
import { convGeometry, tapsAlwaysInside, type ConvGeometry } from '../common/conv-attributes.ts';
import { product } from '../common/shape.ts';
import { QUANTIZE_LOAD_SITES, wgslRedoFlag } from '../webgpu/quant-round-wgsl.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import type { MaybeMeta, TensorMeta } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, GpuProgram } from '../webgpu/contract.ts';
import { gcd, tileFor } from './webgpu-tiles.ts';
import { depthwiseTaps } from './webgpu-depthwise-taps.ts';

/**
 * How a dequant-fused Conv (kernels/dequant-conv.ts) reads packed integer weights: it declares its
 * scale/zero-point buffers, `load` turns a flat weight index into an f32 value, and `channelScale`
 * (when the scale depends only on the output channel) multiplies the accumulator in the epilogue
 * instead of every weight load.
 */
export interface ConvWeightReader {
  declare(b: ShaderBuilder): { load: (W: TensorVar, index: string) => string; channelScale?: (co: string) => string };
}

export function convWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext, transpose: boolean, weights?: ConvWeightReader): GpuLowering | undefined {
  // geometry checks W's type against X's: a quantized W is a float weight in disguise
  const { geo: g } = convGeometry(weights ? [inputs[0], { ...inputs[1]!, dtype: inputs[0]!.dtype }, inputs[2]] : inputs, ctx, transpose);
  const out = outputs[0]!;
  const act = activationOf(ctx.attrs);
  // Conv only: a FusedElementwise tail folded in by the WebGPU fusion pass, after the activation;
  // its extra tensors are read at the output offset. One that enlarges the output: the js kernel runs it.
  // kiln.DequantConv's slots from EPILOGUE_SLOT on are its weight's parameters: a unary tail only.
  const epi = transpose ? undefined : weights ? unaryEpilogueOf(ctx.attrs, ctx.node) : epilogueOf(ctx.attrs, ctx.node);
  const extras = epi && !weights ? epilogueExtras(inputs, ctx.attrs, ctx.node) : [];
  // a fake quantization of X no producer could store (the model input's), on each x as it is read (padding
  // stays 0), or once by a program of its own where the tile would inline it at many loads (below)
  const pro = transpose ? undefined : prologueOf(ctx.attrs, ctx.node);
  const convDims = [g.batch, g.coutG * g.group, ...g.outDims];
  if (epi && (out.dims.length !== convDims.length || out.dims.some((d, i) => d !== convDims[i]))) return undefined;
  const label = `${transpose ? 'ConvTranspose' : 'Conv'}:${ctx.node}`;
  const build = (xMeta: TensorMeta | undefined): { program: GpuProgram; prologueSites: number } => {
    const b = new ShaderBuilder(ctx.caps);
    // xMeta: x already fake-quantized into scratch tensor 0 by the prologue's own program
    const X = xMeta ? b.temp('X', xMeta, 0, 'read') : b.input('X', inputs[0]!, 0);
    const W = b.input('W', inputs[1]!, 1);
    const B = g.hasBias ? b.input('B', inputs[2]!, 2) : undefined;
    const Y = b.output('Y', out);
    const reader = weights?.declare(b);
    const activated = wgslActivation(b, act, 'v');
    const loads = epi ? epilogueLoads(b, extras, out.dims, 'o') : [];
    b.helper('conv_act', `fn conv_act(v: f32, o: u32) -> f32 { return ${epi ? wgslEpilogue(b, epi, activated, loads) : activated}; }`);
    // an epilogue's fake quantization rounds exactly only after a guarded slow division: the tile stores
    // the hardware quotient's rounding and redoes its outputs when one may be wrong (ConvProgramIo.fastStore)
    const fast = epi && roundsExactly(epi);
    if (fast) b.helper('conv_act_fast', `fn conv_act_fast(v: f32, o: u32) -> f32 { return ${wgslEpilogue(b, epi, activated, loads, 'kiln_epilogue', true)}; }`);
    const scaled = reader?.channelScale;
    let prologueSites = 0;
    const program = convProgram(b, g, {
      X, W, Y,
      loadX: (off) => (pro && !xMeta ? (prologueSites++, wgslPrologue(b, pro, `f32(${X.get(off)})`)) : `f32(${X.get(off)})`),
      loadW: (i) => (reader ? reader.load(W, i) : `f32(${W.get(i)})`),
      channelLets: (co) => [`let bias = ${B ? `f32(${B.get(co)})` : '0.0'};`, ...(scaled ? [`let wscale = ${scaled(co)};`] : [])],
      store: (acc, o) => Y.set(o, `conv_act(${acc}${scaled ? ' * wscale' : ''} + bias, ${o})`),
      fastStore: fast ? (acc, o) => Y.set(o, `conv_act_fast(${acc}${scaled ? ' * wscale' : ''} + bias, ${o})`) : undefined,
      label,
    });
    return { program, prologueSites };
  };
  const inline = build(undefined);
  if (!pro || inline.prologueSites <= QUANTIZE_LOAD_SITES) return { kind: 'programs', programs: [inline.program] };
  // a tile that unrolls many loads of x: each would inline the fake quantization's exact rounding
  // (SwiftShader's JIT took 5-8 s for the demo MNIST CNN's first conv with 60), so x is quantized
  // once by a program of its own (one more dispatch) and the conv reads the result
  const xMeta: TensorMeta = { dtype: 'float32', dims: inputs[0]!.dims };
  return { kind: 'programs', programs: [prologueIntoTemp(inputs[0]!, xMeta, pro, ctx, label), build(xMeta).program], temps: [xMeta] };
}

/** A Conv's load prologue over all of x into scratch tensor 0 (one element per invocation). */
function prologueIntoTemp(x: TensorMeta, xMeta: TensorMeta, pro: Program, ctx: GpuKernelContext, label: string): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', x, 0);
  const T = b.temp('T', xMeta, 0);
  const { body, invocations } = b.elementwise({ out: T, count: product(xMeta.dims), operands: [{ name: 'x', tensor: X }], value: wgslPrologue(b, pro, 'f32(x)'), allowVec4: false });
  return b.build({ label: `${label}:prologue`, body, totalInvocations: invocations });
}

/**
 * What the implicit-GEMM program reads and writes, so ops over other tensor types reuse its tuned
 * forms: the float Conv, and QLinearConv over integer-valued floats (qlinear-conv/webgpu.ts).
 */
export interface ConvProgramIo {
  readonly X: TensorVar;
  readonly W: TensorVar;
  readonly Y: TensorVar;
  /** an f32 expression of x at flat offset `off`; a padded tap reads 0.0 instead */
  readonly loadX: (off: string) => string;
  /** an f32 expression of the weight at flat index `i` */
  readonly loadW: (i: string) => string;
  /** statements run once per output channel (global index `co`) of the tile, before its stores */
  readonly channelLets: (co: string) => readonly string[];
  /** statements storing the f32 accumulator `acc` at flat output offset `o` */
  readonly store: (acc: string, o: string) => string;
  /**
   * A cheaper `store` that may be wrong where it sets the module-scope bool `kiln_redo` (wgslRedoFlag):
   * the tile's outputs are stored again with `store` when it is set. For a rounding that is exact only
   * after a rarely needed slow path, which costs even unentered inside the epilogue's loop.
   */
  readonly fastStore?: (acc: string, o: string) => string;
  readonly label: string;
}

/** The implicit GEMM of a Conv / ConvTranspose geometry over declared tensors, in the form `tileFor` picks. */
export function convProgram(b: ShaderBuilder, g: ConvGeometry, io: ConvProgramIo): GpuProgram {
  const { X, W, Y } = io;
  const transpose = g.transpose;
  const { form, ty, tm, tn, wg, quad, unroll: maxUnroll } = tileFor(g, b.caps);
  const s = g.inDims.length;
  const S = product(g.outDims);
  const T = product(g.kernel);
  const checks = !tapsAlwaysInside(g);
  const kw = g.kernel[s - 1]!;
  const rows = form === 'rows';
  const dw = form === 'dw';
  const trows = form === 'trows';
  // x stride and dilation of the 2-D forms: baked, they decide which input columns are loaded
  const sx = g.strides[s - 1]!;
  const dx = g.dilations[s - 1]!;
  const kh = g.kernel[0]!;
  const np = ty * tn; // output positions per invocation
  const unroll = [4, 2, 1].find((u) => u <= maxUnroll && g.cinG % u === 0)!;
  if (quad) {
    b.directive('enable subgroups;');
    // quads never straddle the early exit (the invocation count is a multiple of 4)
    b.directive('diagnostic(off, subgroup_uniformity);');
  }
  const wload = io.loadW;
  // Work items: tn output positions (taps), a row segment of tn positions (rows) or a ty x tn
  // block (dw). Invocations come in quads: 4 consecutive ones share (group, channel block) and
  // take 4 consecutive items.
  // trows: per (batch, output row, column phase) a multiple of 4 tiles, so the lanes of a quad
  // agree on which kernel rows and columns apply (their branches stay quad-uniform)
  const tilesPerRow = trows ? Math.ceil(Math.ceil(g.outDims[1]! / sx) / tn / 4) * 4 : rows || dw ? Math.ceil(g.outDims[1]! / tn) : 0;
  const rowTiles = dw ? Math.ceil(g.outDims[0]! / ty) : rows ? g.outDims[0]! : trows ? g.outDims[0]! * sx : 0;
  const items = rows || dw || trows ? g.batch * rowTiles * tilesPerRow : Math.ceil((g.batch * S) / tn);
  const nq = Math.ceil(items / 4);
  const ncb = Math.ceil(g.coutG / tm);
  const total = items === 0 ? 0 : 4 * g.group * ncb * nq;
  const dims = b.uniformArray('conv_dims', 'u32', [total, nq, ncb, g.batch * S, g.cinG, g.coutG, T, transpose ? T : g.cinG * T, transpose ? g.coutG * T : T, items, tilesPerRow, rowTiles, g.strides[0]! / gcd(g.strides[0]!, g.dilations[0]!)]);
  const strides = b.uniformArray('conv_strides', 'i32', g.strides);
  const dil = b.uniformArray('conv_dil', 'i32', g.dilations);
  const pads = b.uniformArray('conv_pads', 'i32', g.padBegin);
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${dims}(0u)) { return; }`);
  line(`let nq = ${dims}(1u); let ncb = ${dims}(2u); let npix = ${dims}(3u);`);
  line(`let cin_g = ${dims}(4u); let cout_g = ${dims}(5u); let ntaps = ${dims}(6u); let w_co = ${dims}(7u); let w_ci = ${dims}(8u);`);
  line('let lane = global_idx & 3u;');
  line('let qd = global_idx >> 2u;');
  line('let grp = (qd / nq) / ncb;');
  line(`let co0 = ((qd / nq) % ncb) * ${tm}u;`);
  line(`let item_raw = (qd % nq) * 4u + lane;`);
  line(`let item = min(item_raw, ${dims}(9u) - 1u);`);
  line(`let in_s = ${X.stride(1)};`);
  line(`let out_s = ${Y.stride(1)};`);
  line(`let xg = grp * cin_g * in_s;`);
  for (let d = 0; d < s; d++) {
    line(`let in${d} = ${X.shape(2 + d)}; let k${d} = ${W.shape(2 + d)}; let st${d} = ${strides}(${d}u); let ust${d} = u32(st${d}); let dl${d} = ${dil}(${d}u); let xs${d} = ${X.stride(2 + d)};`);
  }
  // Weights one (input channel, kernel row or tap) step needs: tm channels x wk taps, value
  // v = i * wk + kx. With quad sharing lane l loads values l, l + 4, ... and broadcasts them.
  // trows: nk kernel columns per step, chosen per lane (wc below), so no column offset in wr
  const wk = dw ? kh * kw : rows ? kw : trows ? Math.ceil(kw / (sx / gcd(sx, dx))) : 1;
  const wVals = quad ? Math.ceil((tm * wk) / 4) : tm * wk;
  line('let wg0 = grp * cout_g * cin_g * ntaps;');
  for (let t = 0; t < wVals; t++) {
    const v = quad ? `min(${4 * t}u + lane, ${tm * wk - 1}u)` : `${t}u`;
    line(`let wv${t} = ${v};`);
    line(`let wr${t} = wg0 + min(co0 + wv${t} / ${wk}u, cout_g - 1u) * w_co${trows ? '' : ` + wv${t} % ${wk}u`};`);
  }
  // weight (channel co0 + i, tap kx) of the current step, in every lane
  const wOf = (i: number, kx: number, name: (t: number) => string): string => {
    const v = i * wk + kx;
    return quad ? `quadBroadcast(${name(v >> 2)}, ${v & 3}u)` : name(v);
  };
  for (let i = 0; i < tm; i++) for (let j = 0; j < np; j++) line(`var acc${i}_${j} = 0.0;`);
  const yb: string[] = [];
  const valid: string[] = [];

  if (dw) {
    // One input channel: every weight loaded once; each input row and column of the block's
    // footprint is read once and feeds every (output row, kernel row) and (position, tap) pair
    // that lands on it. Strides and dilations are baked: they decide which loads exist.
    const [sy, dy] = [g.strides[0]!, g.dilations[0]!];
    line(`let out_w = ${Y.shape(3)};`);
    line(`let rt = item / ${dims}(10u);`);
    line(`let ox0 = (item % ${dims}(10u)) * ${tn}u;`);
    line(`let oy0 = (rt % ${dims}(11u)) * ${ty}u;`);
    line(`let bt = rt / ${dims}(11u);`);
    line(`let xb = bt * ${X.stride(0)} + xg;`);
    for (let t = 0; t < wVals; t++) line(`let a${t} = ${wload(`wr${t}`)};`);
    for (let i = 0; i < tm; i++) for (let k = 0; k < kh * kw; k++) line(`let s${i}_${k} = ${wOf(i, k, (t) => `a${t}`)};`);
    depthwiseTaps(line, { tm, ty, tn, kh, kw, sy, sx, dy, dx }, pads, (o, ok) => `select(0.0, ${io.loadX(o)}, ${ok})`);
    for (let r = 0; r < ty; r++) {
      for (let j = 0; j < tn; j++) {
        yb.push(`bt * ${Y.stride(0)} + (oy0 + ${r}u) * out_w + ox0 + ${j}u`);
        valid.push(`(oy0 + ${r}u < ${Y.shape(2)}) && (ox0 + ${j}u < out_w)`);
      }
    }
  } else if (rows) {
    const cols = new Set<number>();
    for (let j = 0; j < tn; j++) for (let kx = 0; kx < kw; kx++) cols.add(j * sx + kx * dx);
    line(`let out_w = ${Y.shape(3)};`);
    line(`let row = item / ${dims}(10u);`);
    line(`let ox0 = (item % ${dims}(10u)) * ${tn}u;`);
    line(`let oy = row % ${Y.shape(2)};`);
    line(`let bt = row / ${Y.shape(2)};`);
    line(`let xb = bt * ${X.stride(0)} + xg;`);
    // the input columns this segment reads (x stride and dilation baked), shared by every kernel
    // row and channel
    for (const m of cols) {
      line(`let ix${m} = u32(i32(ox0 * ${sx}u + ${m}u) - ${pads}(1u));`);
      line(`let cok${m} = ix${m} < in1;`);
      line(`let cx${m} = select(0u, ix${m}, cok${m});`);
    }
    line('for (var ky = 0u; ky < k0; ky++) {');
    line(`  let iy = u32(i32(oy) * st0 - ${pads}(0u) + i32(ky) * dl0);`);
    line('  let rok = iy < in0;');
    line('  var xo = xb + select(0u, iy * xs0, rok);');
    for (const m of cols) line(`  let ok${m} = rok & cok${m};`);
    line(`  var wo = ky * ${kw}u;`); // + ci * w_ci below
    line(`  for (var ci = 0u; ci < cin_g; ci += ${unroll}u) {`);
    for (let u = 0; u < unroll; u++) {
      for (const m of cols) line(`    let x${u}_${m} = select(0.0, ${io.loadX(`xo + cx${m}`)}, ok${m});`);
      for (let t = 0; t < wVals; t++) line(`    let a${u}_${t} = ${wload(`wr${t} + wo`)};`);
      for (let kx = 0; kx < kw; kx++) {
        for (let i = 0; i < tm; i++) {
          line(`    let s${u}_${i}_${kx} = ${wOf(i, kx, (t) => `a${u}_${t}`)};`);
          for (let j = 0; j < tn; j++) line(`    acc${i}_${j} += s${u}_${i}_${kx} * x${u}_${j * sx + kx * dx};`);
        }
      }
      line('    xo += in_s; wo += w_ci;');
    }
    line('  }');
    line('}');
    for (let j = 0; j < tn; j++) {
      yb.push(`bt * ${Y.stride(0)} + oy * out_w + ox0 + ${j}u`);
      valid.push(`ox0 + ${j}u < out_w`);
    }
  } else if (trows) {
    // Positions ox = ox0 + j * sx of one output row and column phase. Kernel row ky feeds output
    // row oy when (oy + pad - ky * dil) is a multiple of the stride: those ky are r0, r0 + stepY, ...
    // (stepY = sy / gcd(sy, dy)), so the loop visits only them. Likewise only nk kernel columns
    // c0, c0 + stepX, ... feed this phase, each reading input columns base + j. SwiftShader runs
    // masked-off branches anyway, so skipping happens through trip counts, not ifs.
    const stepX = sx / gcd(sx, dx);
    const nk = Math.ceil(kw / stepX);
    line(`let out_w = ${Y.shape(3)};`);
    line(`let tile = item % ${dims}(10u);`);
    line(`let r1 = item / ${dims}(10u);`);
    line('let ph = r1 % ust1;');
    line(`let oy = (r1 / ust1) % ${Y.shape(2)};`);
    line(`let bt = (r1 / ust1) / ${Y.shape(2)};`);
    line(`let xb = bt * ${X.stride(0)} + xg;`);
    line(`let ox0 = ph + tile * ${tn}u * ust1;`);
    line(`let qx = i32(ox0) + ${pads}(1u);`);
    // first kernel column of this phase (kw = none)
    line(`var c0 = ${kw};`);
    for (let c = stepX - 1; c >= 0; c--) line(`c0 = select(c0, ${c}, ((qx - ${c} * dl1) % st1 + st1) % st1 == 0);`);
    for (let n = 0; n < nk; n++) {
      line(`let kv${n} = c0 + ${n * stepX} < ${kw};`);
      line(`let kc${n} = u32(min(c0 + ${n * stepX}, ${kw - 1}));`);
      line(`let cb${n} = (qx - i32(kc${n}) * dl1) / st1;`);
      for (let j = 0; j < tn; j++) {
        line(`let ix${n}_${j} = u32(cb${n} + ${j});`);
        line(`let cok${n}_${j} = kv${n} & (ix${n}_${j} < in1);`);
        line(`let cx${n}_${j} = select(0u, ix${n}_${j}, cok${n}_${j});`);
      }
    }
    // this lane's weight columns: value v = i * nk + n is channel co0 + i, kernel column kc_n
    for (let t = 0; t < wVals; t++) {
      const n = quad ? `(wv${t} % ${nk}u)` : `${t % nk}u`;
      line(`let wc${t} = u32(min(c0 + i32(${n}) * ${stepX}, ${kw - 1}));`);
    }
    line('let qy0 = i32(oy) + ' + pads + '(0u);');
    line('var r0 = k0; // no kernel row feeds this output row');
    line(`for (var t = ${dims}(12u); t > 0u; t--) { r0 = select(r0, t - 1u, ((qy0 - i32(t - 1u) * dl0) % st0 + st0) % st0 == 0); }`);
    line(`for (var ky = r0; ky < k0; ky += ${dims}(12u)) {`);
    line('  let qy = qy0 - i32(ky) * dl0;');
    line('  let iy = u32(qy / st0);');
    line('  let rok = (qy >= 0) & (iy < in0);');
    line('  var xo = xb + select(0u, iy * xs0, rok);');
    line(`  var wo = ky * ${kw}u;`);
    line(`  for (var ci = 0u; ci < cin_g; ci += ${unroll}u) {`);
    for (let u = 0; u < unroll; u++) {
      for (let t = 0; t < wVals; t++) line(`    let a${u}_${t} = ${wload(`wr${t} + wc${t} + wo`)};`);
      for (let n = 0; n < nk; n++) {
        for (let j = 0; j < tn; j++) line(`    let x${u}_${n}_${j} = select(0.0, ${io.loadX(`xo + cx${n}_${j}`)}, rok & cok${n}_${j});`);
        for (let i = 0; i < tm; i++) {
          line(`    let s${u}_${n}_${i} = ${wOf(i, n, (t) => `a${u}_${t}`)};`);
          for (let j = 0; j < tn; j++) line(`    acc${i}_${j} += s${u}_${n}_${i} * x${u}_${n}_${j};`);
        }
      }
      line('    xo += in_s; wo += w_ci;');
    }
    line('  }');
    line('}');
    for (let j = 0; j < tn; j++) {
      yb.push(`bt * ${Y.stride(0)} + oy * out_w + ox0 + ${j}u * ust1`);
      valid.push(`ox0 + ${j}u * ust1 < out_w`);
    }
  } else {
    // per output position j: batch, spatial position, input base offset, per-axis origin
    for (let j = 0; j < tn; j++) {
      line(`let n${j} = min(item * ${tn}u + ${j}u, npix - 1u);`);
      line(`var rest${j} = n${j} % out_s;`);
      for (let d = s - 1; d >= 0; d--) {
        line(`let o${j}_${d} = i32(rest${j} % ${Y.shape(2 + d)}); rest${j} = rest${j} / ${Y.shape(2 + d)};`);
        line(transpose ? `let org${j}_${d} = o${j}_${d} + ${pads}(${d}u);` : `let org${j}_${d} = o${j}_${d} * st${d} - ${pads}(${d}u);`);
      }
      line(`let xb${j} = (n${j} / out_s) * ${X.stride(0)} + xg;`);
      yb.push(`(n${j} / out_s) * ${Y.stride(0)} + n${j} % out_s`);
      valid.push(`item * ${tn}u + ${j}u < npix`);
    }
    line('for (var tap = 0u; tap < ntaps; tap++) {');
    line('  var trest = tap;');
    for (let d = s - 1; d >= 0; d--) line(`  let kk${d} = i32(trest % k${d}); trest = trest / k${d};`);
    for (let j = 0; j < tn; j++) {
      const conds: string[] = [];
      const offs: string[] = [];
      for (let d = 0; d < s; d++) {
        if (transpose) {
          // a negative q wraps to a huge u32 whose quotient is never < in (stride * in < 2^32)
          line(`  let q${j}_${d} = u32(org${j}_${d} - kk${d} * dl${d});`);
          line(`  let p${j}_${d} = q${j}_${d} / ust${d};`);
          conds.push(`(q${j}_${d} == p${j}_${d} * ust${d})`, `(p${j}_${d} < in${d})`);
        } else {
          line(`  let p${j}_${d} = u32(org${j}_${d} + kk${d} * dl${d});`);
          conds.push(`(p${j}_${d} < in${d})`);
        }
        offs.push(`p${j}_${d} * xs${d}`);
      }
      if (checks) {
        // non-short-circuit '&': '&&' chains become branches that SwiftShader compiles very slowly
        line(`  let ok${j} = ${conds.join(' & ')};`);
        line(`  var xo${j} = xb${j} + select(0u, ${offs.join(' + ')}, ok${j});`);
      } else line(`  var xo${j} = xb${j} + ${offs.join(' + ')};`);
    }
    line('  var wo = tap;');
    line(`  for (var ci = 0u; ci < cin_g; ci += ${unroll}u) {`);
    for (let u = 0; u < unroll; u++) {
      for (let j = 0; j < tn; j++) line(`    let x${u}_${j} = ${checks ? `select(0.0, ${io.loadX(`xo${j}`)}, ok${j})` : io.loadX(`xo${j}`)}; xo${j} += in_s;`);
      for (let t = 0; t < wVals; t++) line(`    let a${u}_${t} = ${wload(`wr${t} + wo`)};`);
      for (let i = 0; i < tm; i++) {
        line(`    let s${u}_${i} = ${wOf(i, 0, (t) => `a${u}_${t}`)};`);
        for (let j = 0; j < tn; j++) line(`    acc${i}_${j} += s${u}_${i} * x${u}_${j};`);
      }
      line('    wo += w_ci;');
    }
    line('  }');
    line('}');
  }
  // The epilogue indexes arrays with loop variables: unrolling it costs JIT time, not speed.
  line(`var acc = array<f32, ${tm * np}>(${Array.from({ length: tm * np }, (_, k) => `acc${Math.floor(k / np)}_${k % np}`).join(', ')});`);
  line(`let yb = array<u32, ${np}>(${yb.join(', ')});`);
  line(`let yok = array<bool, ${np}>(${valid.map((v) => `item_raw < ${dims}(9u) && ${v}`).join(', ')});`);
  const storeLoop = (store: (acc: string, o: string) => string, indent: string): void => {
    line(`${indent}for (var i = 0u; i < ${tm}u; i++) {`);
    line(`${indent}  let co = co0 + i;`);
    line(`${indent}  if (co >= cout_g) { break; }`);
    for (const x of io.channelLets('grp * cout_g + co')) line(`${indent}  ${x}`);
    line(`${indent}  let yo = (grp * cout_g + co) * out_s;`);
    line(`${indent}  for (var j = 0u; j < ${np}u; j++) {`);
    line(`${indent}    if (yok[j]) {`);
    for (const x of store(`acc[i * ${np}u + j]`, 'yb[j] + yo').split('\n')) line(`${indent}      ${x}`);
    line(`${indent}    }`);
    line(`${indent}  }`);
    line(`${indent}}`);
  };
  if (io.fastStore) {
    const redo = wgslRedoFlag(b);
    storeLoop(io.fastStore, '');
    // a loop, not an if: SwiftShader skips a loop no lane enters but runs an if's body under the lanes' mask
    line(`for (var redo = select(1u, 0u, ${redo}); redo < 1u; redo++) {`);
    storeLoop(io.store, '  ');
    line('}');
  } else storeLoop(io.store, '');
  return b.build({ label: io.label, body: L.join('\n'), totalInvocations: total, workgroupSize: wg });
}
