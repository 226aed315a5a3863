import { Tensor, type AnyTensor } from '../runtime/api/tensor.ts';
import { fail } from '../runtime/core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from './common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from './common/values.ts';
import { gpuMeta } from './matmul-integer.ts';
import { ShaderBuilder } from './shader/builder.ts';
import type { GpuKernelContext, GpuProgram, KernelContext, MaybeMeta, OpKernel, TensorMeta } from './types.ts';

/**
 * com.microsoft MatMulNBits: Y = A x dequant(B)^T (+ bias). B holds N rows of K weights quantized
 * in blocks of `block_size` along K, packed low bits first (`bits` = 2, 4 or 8), one scale and
 * zero point per (row, block): w = (q - zero_point) * scale. Zero points are packed uint8 like B,
 * or unpacked in A's float type; absent, they are 2^(bits-1). The deprecated g_idx (a block index
 * per k) runs on the CPU only.
 *
 * The GPU never materializes the float weight: B stays packed (a u32 word holds 32/bits weights of
 * one row), each workgroup owns a tile of TM rows of A x TN columns of Y, its invocations split the
 * K blocks between them and sum per block before scaling (sum a*(q-zp) then * scale), then reduce
 * through shared memory. f32 accumulation.
 */

// inputs: A, B, scales, zero_points, g_idx, bias
const IA = 0, IB = 1, IS = 2, IZ = 3, IG = 4, IBIAS = 5;

interface Plan {
  readonly K: number;
  readonly N: number;
  readonly M: number;
  readonly bits: number;
  readonly blockSize: number;
  readonly nBlocks: number;
  /** bytes per (row, block) */
  readonly blob: number;
  /** bytes of packed uint8 zero points per row */
  readonly zpRowBytes: number;
  readonly zp: 'none' | 'packed' | 'float';
  readonly out: TensorMeta;
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

function plan(inputs: readonly MaybeMeta[], ctx: KernelContext): Plan {
  const a = requireInput(inputs, IA, ctx);
  const b = requireInput(inputs, IB, ctx);
  const s = requireInput(inputs, IS, ctx);
  requireType(a, FLOAT_TYPES, ctx, 'A');
  requireType(b, ['uint8'], ctx, 'B');
  if (s.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': scales type ${s.dtype} differs from A type ${a.dtype}`);
  const K = ctx.attrs.int('K', 0);
  const N = ctx.attrs.int('N', 0);
  const bits = ctx.attrs.int('bits', 4);
  const blockSize = ctx.attrs.int('block_size', 0);
  if (K < 1 || N < 1) fail('INVALID_GRAPH', `node '${ctx.node}': attributes K and N must be >= 1, got K=${K}, N=${N}`);
  if (![2, 4, 8].includes(bits)) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': MatMulNBits with bits=${bits} is not supported (2, 4 or 8)`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': block_size must be a power of 2 >= 16, got ${blockSize}`);
  if (a.dims.length === 0 || a.dims[a.dims.length - 1] !== K) fail('INVALID_GRAPH', `node '${ctx.node}': A has shape ${dimsText(a.dims)}, expected its last dim to be K=${K}`);
  const nBlocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  if (product(b.dims) !== N * nBlocks * blob || b.dims[0] !== N) fail('INVALID_GRAPH', `node '${ctx.node}': B has shape ${dimsText(b.dims)}, expected [${N}, ${nBlocks}, ${blob}]`);
  if (product(s.dims) !== N * nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': scales has shape ${dimsText(s.dims)}, expected ${N * nBlocks} values ([${N}, ${nBlocks}])`);
  const zpRowBytes = Math.ceil((nBlocks * bits) / 8);
  const z = inputs[IZ];
  let zp: Plan['zp'] = 'none';
  if (z) {
    if (z.dtype === 'uint8') {
      zp = 'packed';
      if (product(z.dims) !== N * zpRowBytes) fail('INVALID_GRAPH', `node '${ctx.node}': uint8 zero_points has shape ${dimsText(z.dims)}, expected ${N * zpRowBytes} bytes ([${N}, ${zpRowBytes}])`);
    } else {
      if (z.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points type ${z.dtype} is neither uint8 nor A's type ${a.dtype}`);
      zp = 'float';
      if (product(z.dims) !== N * nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': zero_points has shape ${dimsText(z.dims)}, expected ${N * nBlocks} values ([${N}, ${nBlocks}])`);
    }
  }
  const g = inputs[IG];
  if (g) {
    requireType(g, ['int32'], ctx, 'g_idx');
    if (product(g.dims) !== K) fail('INVALID_GRAPH', `node '${ctx.node}': g_idx has shape ${dimsText(g.dims)}, expected [${K}]`);
  }
  const bias = inputs[IBIAS];
  if (bias) {
    if (bias.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': bias type ${bias.dtype} differs from A type ${a.dtype}`);
    if (product(bias.dims) !== N) fail('INVALID_GRAPH', `node '${ctx.node}': bias has shape ${dimsText(bias.dims)}, expected [${N}]`);
  }
  return {
    K, N, bits, blockSize, nBlocks, blob, zpRowBytes, zp,
    M: product(a.dims, 0, a.dims.length - 1),
    out: { dtype: a.dtype, dims: [...a.dims.slice(0, -1), N] },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU: dequantize B once into a float32 [N, K] matrix (cached per weight: constants keep their
// tensor objects across runs), then row-by-row dot products.
// ---------------------------------------------------------------------------------------------

interface Dequantized {
  readonly parts: readonly (AnyTensor | undefined)[];
  readonly w: Float32Array;
}
const cache = new WeakMap<AnyTensor, Dequantized>();

function dequantizeB(inputs: readonly (AnyTensor | undefined)[], p: Plan, ctx: KernelContext): Float32Array {
  const key = inputs[IB]!;
  const parts = [inputs[IS], inputs[IZ], inputs[IG]];
  const hit = cache.get(key);
  if (hit && hit.parts.every((t, i) => t === parts[i]) && hit.w.length === p.N * p.K) return hit.w;
  const { K, N, bits, blockSize, nBlocks, blob } = p;
  const q = inputs[IB]!.data as Uint8Array;
  const scales = toNumbers(inputs[IS]!);
  const zt = inputs[IZ];
  const zf = zt && p.zp === 'float' ? toNumbers(zt) : undefined;
  const zb = zt && p.zp === 'packed' ? (zt.data as Uint8Array) : undefined;
  const g = inputs[IG] ? (inputs[IG].data as Int32Array) : undefined;
  const mask = (1 << bits) - 1;
  const w = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const blk = g ? g[k]! : Math.floor(k / blockSize);
      if (blk < 0 || blk >= nBlocks) fail('INVALID_GRAPH', `node '${ctx.node}': g_idx[${k}] = ${blk} is outside [0, ${nBlocks})`);
      const bitPos = (k % blockSize) * bits;
      const v = (q[(n * nBlocks + Math.floor(k / blockSize)) * blob + (bitPos >> 3)]! >> (bitPos & 7)) & mask;
      let z = 1 << (bits - 1);
      if (zf) z = zf[n * nBlocks + blk]!;
      else if (zb) z = (zb[n * p.zpRowBytes + ((blk * bits) >> 3)]! >> ((blk * bits) & 7)) & mask;
      w[n * K + k] = (v - z) * scales[n * nBlocks + blk]!;
    }
  }
  cache.set(key, { parts, w });
  return w;
}

function matmulNBitsCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const p = plan(inputs.map((t) => t && metaOf(t)), ctx);
  const w = dequantizeB(inputs, p, ctx);
  const at = inputs[IA]!;
  const a = at.type === 'float32' ? (at.data as Float32Array) : toNumbers(at);
  const bias = inputs[IBIAS] && toNumbers(inputs[IBIAS]);
  const { M, N, K } = p;
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const ao = m * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += a[ao + k]! * w[wo + k]!;
        s1 += a[ao + k + 1]! * w[wo + k + 1]!;
        s2 += a[ao + k + 2]! * w[wo + k + 2]!;
        s3 += a[ao + k + 3]! * w[wo + k + 3]!;
      }
      for (; k < K; k++) s0 += a[ao + k]! * w[wo + k]!;
      y[m * N + n] = s0 + s1 + s2 + s3 + (bias ? bias[n]! : 0);
    }
  }
  return [p.out.dtype === 'float32' ? new Tensor('float32', Float32Array.from(y), p.out.dims) : fromNumbers(p.out.dtype, p.out.dims, y)];
}

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
 * `globalThis.KILN_NBITS_SPLIT` forces a split (tests use it to cover both paths on SwiftShader).
 */
function splitK(p: Plan, ctx: GpuKernelContext): number {
  const forced = (globalThis as { KILN_NBITS_SPLIT?: number }).KILN_NBITS_SPLIT;
  const tiles = Math.ceil(p.M / Math.min(4, Math.max(1, p.M))) * Math.ceil(p.N / TN);
  const cap = forced ?? (ctx.caps.software ? 1 : WG);
  let ks = 1;
  while (ks < cap && ks < p.nBlocks && (forced !== undefined || tiles * ks < 32768)) ks *= 2;
  return ks;
}

function matmulNBitsProgram(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], p: Plan, ctx: GpuKernelContext): GpuProgram {
  const tm = Math.min(4, Math.max(1, p.M));
  const ks = splitK(p, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const A = b.input('A', inputs[IA]!, IA);
  b.input('B', inputs[IB]!, IB); // declares the binding; the shader text names B itself
  const S = b.input('S', inputs[IS]!, IS);
  const Z = inputs[IZ] && b.input('Z', gpuMeta(inputs[IZ]), IZ);
  const BIAS = inputs[IBIAS] && b.input('BIAS', inputs[IBIAS], IBIAS);
  const Y = b.output('Y', gpuMeta(outputs[0]!));
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
        line(`  ${Y.set(`ar${i} / max(K, 1u) * N + n${c}`, `${value(i, c)}${BIAS ? ` + ${BIAS.get(`n${c}`)}` : ''}`)}`);
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

export const kernels: readonly OpKernel[] = [
  {
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inferOutputs: (inputs, ctx) => [plan(inputs, ctx).out],
    cpu: matmulNBitsCpu,
    webgpu(inputs, outputs, ctx: GpuKernelContext) {
      const p = plan(inputs, ctx);
      // g_idx (deprecated) gives each k its own block: CPU only
      if (inputs[IG]) return undefined;
      return { kind: 'programs', programs: [matmulNBitsProgram(inputs, outputs, p, ctx)] };
    },
  },
];
