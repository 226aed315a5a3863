import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { unaryEpilogueOf } from '../fused-elementwise/epilogue.ts';
import { wgslEpilogue } from '../fused-elementwise/webgpu.ts';
import { IA, IB, IBIAS, IG, IS, IZ, nbitsPlan, type NBitsPlan } from './op.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

// ---------------------------------------------------------------------------------------------
// WebGPU
// ---------------------------------------------------------------------------------------------

const TN = 4;
const WG = 64;

/**
 * How many invocations share one tile's K blocks (ks of them in a WG-wide workgroup, which holds
 * WG / ks tiles). A GPU wants tens of thousands of invocations, which a decode row (M = 1) only
 * reaches by splitting K; software adapters have a few cores and slow barriers (SwiftShader:
 * ks = 1 measured 1.4x faster than 16 on K = N = 4096), so they keep one invocation per tile.
 * KILN_NBITS_SPLIT (core/dev-knobs.ts) forces a split (tests use it to cover both paths on SwiftShader).
 */
function splitK(p: NBitsPlan, ctx: GpuKernelContext): number {
  const forced = devKnobs.KILN_NBITS_SPLIT;
  const tiles = Math.ceil(p.M / Math.min(4, Math.max(1, p.M))) * Math.ceil(p.N / TN);
  const cap = forced ?? (ctx.caps.software ? 1 : WG);
  let ks = 1;
  while (ks < cap && ks < p.nBlocks && (forced !== undefined || tiles * ks < 32768)) ks *= 2;
  return ks;
}

function matmulNBitsProgram(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], p: NBitsPlan, ctx: GpuKernelContext): GpuProgram {
  const tm = Math.min(4, Math.max(1, p.M));
  const ks = splitK(p, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const A = b.input('A', inputs[IA]!, IA);
  b.input('B', inputs[IB]!, IB); // declares the binding; the shader text names B itself
  const S = b.input('S', inputs[IS]!, IS);
  const Z = inputs[IZ] && b.input('Z', gpuMeta(inputs[IZ]), IZ);
  const BIAS = inputs[IBIAS] && b.input('BIAS', inputs[IBIAS], IBIAS);
  const Y = b.output('Y', gpuMeta(outputs[0]!));
  // a unary tail the WebGPU fusion pass folded in (an activation's fake quantization), after the bias
  const epi = unaryEpilogueOf(ctx.attrs, ctx.node);
  const finish = (v: string): string => (epi ? wgslEpilogue(b, epi, v) : v);
  const nrt = Math.ceil(p.M / tm);
  const nct = Math.ceil(p.N / TN);
  const tiles = p.M === 0 ? 0 : nrt * nct;
  const u = {
    tiles: b.uniform('tiles', 'u32', tiles),
    nct: b.uniform('nct', 'u32', nct),
    M: b.uniform('M', 'u32', p.M),
    N: b.uniform('N', 'u32', p.N),
    K: b.uniform('K', 'u32', p.K),
    nb: b.uniform('n_blocks', 'u32', p.nBlocks),
    nFull: b.uniform('n_full', 'u32', Math.floor(p.K / p.blockSize)),
    zpRow: b.uniform('zp_row', 'u32', p.zpRowBytes),
  };
  const { bits } = p;
  const vpw = 32 / bits; // weights per u32 word
  const wpb = (p.blockSize * bits) / 32; // words per block (block_size >= 16 keeps blocks word-aligned)
  // a packed constant B is read a word at a time; a fed B holds one byte per u32
  const packed = inputs[IB]!.packed === true;
  b.helper('bword', packed
    ? `fn bword(i: u32) -> u32 { return B[i]; }`
    : `fn bword(i: u32) -> u32 { return B[4u * i] | (B[4u * i + 1u] << 8u) | (B[4u * i + 2u] << 16u) | (B[4u * i + 3u] << 24u); }`);
  const zpExpr = (n: string): string => {
    if (!Z) return `${1 << (bits - 1)}.0`;
    if (p.zp === 'float') return Z.get(`${n} * nb + j`);
    return `f32(extractBits(${Z.get(`${n} * ${u.zpRow} + ((j * ${bits}u) >> 3u)`)}, (j * ${bits}u) & 7u, ${bits}u))`;
  };
  const V = tm * TN;
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`let lane = local_idx % ${ks}u;`);
  line(`let tile = workgroup_idx * ${WG / ks}u + local_idx / ${ks}u;`);
  // a tile past the end still takes part in the barriers below, with no blocks to read
  line(ks === 1 ? `if (tile >= ${u.tiles}) { return; }` : `let live = tile < ${u.tiles};`);
  line(`let M = ${u.M}; let N = ${u.N}; let K = ${u.K}; let nb = ${u.nb};`);
  line(`let ct = min(tile, ${u.tiles} - 1u) % ${u.nct};`);
  line(`let rt = min(tile, ${u.tiles} - 1u) / ${u.nct};`);
  for (let i = 0; i < tm; i++) line(`let ar${i} = min(rt * ${tm}u + ${i}u, M - 1u) * K;`);
  for (let c = 0; c < TN; c++) line(`let n${c} = min(ct * ${TN}u + ${c}u, N - 1u);`);
  for (let i = 0; i < tm; i++) for (let c = 0; c < TN; c++) line(`var acc${i}_${c} = 0.0;`);
  const block = (guard: boolean): void => {
    for (let c = 0; c < TN; c++) {
      line(`  let sc${c} = ${S.get(`n${c} * nb + j`)};`);
      line(`  let zp${c} = ${zpExpr(`n${c}`)};`);
      line(`  let wb${c} = (n${c} * nb + j) * ${wpb}u;`);
    }
    for (let i = 0; i < tm; i++) for (let c = 0; c < TN; c++) line(`  var s${i}_${c} = 0.0;`);
    line(`  for (var w = 0u; w < ${wpb}u; w++) {`);
    line(`    let kb = j * ${p.blockSize}u + w * ${vpw}u;`);
    for (let c = 0; c < TN; c++) line(`    let q${c} = bword(wb${c} + w);`);
    for (let e = 0; e < vpw; e++) {
      for (let i = 0; i < tm; i++) {
        const a = A.get(`ar${i} + kb + ${e}u`);
        line(`    let a${i}_${e} = ${guard ? `select(0.0, ${a}, kb + ${e}u < K)` : a};`);
      }
      for (let c = 0; c < TN; c++) {
        line(`    let d${c}_${e} = f32(extractBits(q${c}, ${e * bits}u, ${bits}u)) - zp${c};`);
        for (let i = 0; i < tm; i++) line(`    s${i}_${c} += a${i}_${e} * d${c}_${e};`);
      }
    }
    line('  }');
    for (let i = 0; i < tm; i++) for (let c = 0; c < TN; c++) line(`  acc${i}_${c} += s${i}_${c} * sc${c};`);
  };
  line(`for (var j = lane; j < ${ks === 1 ? u.nFull : `select(0u, ${u.nFull}, live)`}; j += ${ks}u) {`);
  block(false);
  line('}');
  if (p.K % p.blockSize !== 0) {
    // the last, partial block: weights past K are padding, A reads there are masked
    line(`if (lane == 0u${ks === 1 ? '' : ' && live'}) { let j = ${u.nFull};`);
    block(true);
    line('}');
  }
  const store = (value: (i: number, c: number) => string): void => {
    for (let i = 0; i < tm; i++) {
      for (let c = 0; c < TN; c++) {
        line(`if (rt * ${tm}u + ${i}u < M && ct * ${TN}u + ${c}u < N) {`);
        line(`  ${Y.set(`ar${i} / max(K, 1u) * N + n${c}`, finish(`${value(i, c)}${BIAS ? ` + ${BIAS.get(`n${c}`)}` : ''}`))}`);
        line('}');
      }
    }
  };
  if (ks === 1) store((i, c) => `acc${i}_${c}`);
  else {
    b.helper('nbits_red', `var<workgroup> red: array<f32, ${WG * V}>;`);
    for (let i = 0; i < tm; i++) for (let c = 0; c < TN; c++) line(`red[local_idx * ${V}u + ${i * TN + c}u] = acc${i}_${c};`);
    line('workgroupBarrier();');
    line(`for (var h = ${ks / 2}u; h > 0u; h = h >> 1u) {`);
    line(`  if (lane < h) { for (var v = 0u; v < ${V}u; v++) { red[local_idx * ${V}u + v] += red[(local_idx + h) * ${V}u + v]; } }`);
    line('  workgroupBarrier();');
    line('}');
    line('if (lane != 0u || !live) { return; }');
    store((i, c) => `red[local_idx * ${V}u + ${i * TN + c}u]`);
  }
  return b.build({ label: `MatMulNBits:${ctx.node}`, body: L.join('\n'), totalInvocations: tiles * ks, workgroupSize: WG });
}

const matmulNBits: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  const p = nbitsPlan(inputs, ctx);
  // g_idx (deprecated) gives each k its own block: CPU only
  if (inputs[IG]) return undefined;
  return { kind: 'programs', programs: [matmulNBitsProgram(inputs, outputs, p, ctx)] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('com.microsoft', 'MatMulNBits')]: matmulNBits };
