import { fail } from '../../core/errors.ts';
import { ShaderBuilder } from './shader-builder.ts';
import type { TensorMeta } from '../contract.ts';
import type { GpuCaps, GpuProgram } from '../webgpu/contract.ts';
import { wgslActivation, type ActivationSpec } from '../common/activation.ts';
import { tiledMatmulVec4Program, vec4Operands } from './tiled-matmul-vec4.ts';
import { epilogueLoads, wgslEpilogue } from '../fused-elementwise/webgpu.ts';
import type { Program } from '../fused-elementwise/program.ts';

/**
 * Register-tiled matrix product for WebGPU, shared by MatMul and Gemm (and usable by Conv as an
 * implicit GEMM):
 *
 *   Y[b, m, n] = act(alpha * sum_k A[b, m, k] * B[b, k, n] + beta * C[b, m, n])
 *
 * API: `tiledMatmulProgram(spec, caps)` returns one GpuProgram. Every operand is addressed through
 * element strides held in uniforms (`MatmulOperand`): per output batch dim (0 = broadcast), per row
 * and per column. Transposes (Gemm transA/transB), numpy batch broadcasting, a bias vector
 * (row stride 0) or a per-row bias (column stride 0) are therefore just strides and share one
 * pipeline. Y is written contiguously as [batch..., M, N]. What the WGSL depends on (and so the
 * pipeline cache key): element type, batch rank, tile shape, whether C exists, the activation kind.
 *
 * Measured on SwiftShader (Chromium's build: Subzero JIT, 4-lane SIMD) on this 2-core machine,
 * f32 512^3, kernel only (no upload/readback). The machine was shared and loaded (load average
 * 5-12), so numbers are best-of-N wall or CPU-time based and only their ratios are solid:
 * - Every storage (and workgroup) load whose index is not a compile-time constant becomes a 4-lane
 *   gather with one branch per lane (~20 ns); a multiply-add ~1-3 ns depending on spills; a
 *   subgroup broadcast ~3 ns. So the kernel maximises multiply-adds per load.
 * - Plain register tiling (each thread 8x8 outputs, vec4 or scalar loads) ~1.0-1.6 GFLOP/s; 4x4
 *   ~0.5-0.9. Workgroup-memory tiling was slower (its loads are gathers too, plus barriers).
 * - vec4 loads split into 4 gathers (no gain); fma() vs a*b+c, summing 4 products before the
 *   accumulate, 8 k per iteration, loads interleaved with arithmetic: no measurable difference.
 * - Quad tiling (needs `subgroups`): the 4 lanes of a quad share TM rows and each lane owns TN
 *   columns spaced 4 apart; lane l loads A[m, k+l] for 4 k at once and quadBroadcast hands the
 *   values around, so per k a quad issues TM/4 + TN gathers for TM*TN 4-lane multiply-adds.
 *   TM=16, TN=8 is best: ~1.6-1.75 GFLOP/s best-of-9 under that load, 2x plain 8x8 by CPU time.
 *   TM=8/12/20/32, TN=4/12/16 all measured slower (more loads per multiply-add, or spills).
 *   Without quad ops the same 16x8 tiles are ~15% slower, still ahead of 8x8.
 * - Accumulators as one array in the hot loop: 2x slower; as scalars with the K tail and the
 *   epilogue unrolled: JIT time 2-4 s per pipeline. Hence scalars in the hot loop, copied into an
 *   array for a rolled tail and epilogue (JIT ~0.5 s).
 * - Baking M, N, K and strides into the WGSL: no measurable gain, so they stay uniforms.
 * On hardware GPUs (not measured here) the same kernel runs without quad ops and with 4x4 tiles per
 * thread so accumulators stay in registers; lanes of a quad read the same A element (one cache line)
 * and consecutive lanes consecutive B columns (coalesced).
 */

export interface MatmulOperand {
  /** the tensor bound to this operand */
  readonly meta: TensorMeta;
  /** node input slot the tensor comes from */
  readonly slot: number;
  /** element stride per output batch dim (same length as `batchDims`; 0 broadcasts) */
  readonly batchStrides: readonly number[];
  /** element stride between rows (m for A and C, k for B) */
  readonly rowStride: number;
  /** element stride between columns (k for A, n for B and C) */
  readonly colStride: number;
}

export interface TiledMatmulSpec {
  readonly label: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** output batch dims; Y has product(batchDims) * M * N elements */
  readonly batchDims: readonly number[];
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
  /** optional addend, scaled by beta, in the epilogue */
  readonly c?: MatmulOperand;
  readonly alpha?: number;
  readonly beta?: number;
  readonly activation?: ActivationSpec;
  /** a FusedElementwise tail after the activation (MatMul, folded by the WebGPU fusion pass; float only) */
  readonly epilogue?: Program;
  /** the epilogue's extra tensors (node inputs from EPILOGUE_SLOT), broadcast into the output of shape `outDims` */
  readonly epilogueExtras?: readonly TensorMeta[];
  /** the output's logical shape (the extra tensors' broadcast maps need it) */
  readonly outDims?: readonly number[];
  /** the output tensor (output slot 0); its element type sets the compute type */
  readonly out: TensorMeta;
  /** false keeps the scalar form even where the vec4 form applies (bench/node/vec4-bench.ts) */
  readonly allowVec4?: boolean;
}

export interface MatmulTiles {
  /** rows per workgroup (shared by every thread of it) */
  readonly tm: number;
  /** columns per thread */
  readonly tn: number;
  /** threads per workgroup (a multiple of 4: quads) */
  readonly threads: number;
  /** A values are shared inside a quad with quadBroadcast (subgroups; 4-wide SIMD adapters) */
  readonly quad: boolean;

}

const pow2AtMost = (x: number, cap: number): number => {
  let p = 1;
  while (p * 2 <= Math.min(x, cap)) p *= 2;
  return p;
};

/**
 * Tile shape per adapter class and problem shape class (a handful of pipelines, never one per shape).
 * Quad sharing relies on quads being 4 consecutive invocations, which SwiftShader guarantees (its
 * SIMD width is 4); on other adapters we do not assume a mapping and use plain register tiles.
 */
export function chooseTiles(M: number, N: number, caps: GpuCaps): MatmulTiles {
  const quad = caps.software && caps.subgroups;
  const maxTm = caps.software ? 16 : 4;
  const maxTn = caps.software ? 8 : 4;
  const tm = M >= maxTm ? maxTm : M >= 4 ? 4 : 1;
  const tn = pow2AtMost(Math.ceil(N / 4), maxTn);
  // On SwiftShader at most 8 quads: 512 columns per workgroup measured slower than 256 (fewer,
  // larger workgroups balance worse over its worker threads). Hardware gets 64-thread workgroups.
  const quads = pow2AtMost(Math.ceil(N / (4 * tn)), caps.software ? 8 : 16);
  return { tm, tn, threads: 4 * quads, quad };
}

export function tiledMatmulProgram(spec: TiledMatmulSpec, caps: GpuCaps, tiles = chooseTiles(spec.M, spec.N, caps)): GpuProgram {
  // Where B's rows are whole aligned vec4s, the vec4 form (not with quad sharing: see its file).
  // the vec4 form has no FusedElementwise epilogue yet: a fused tail keeps the scalar form
  if (!tiles.quad && spec.allowVec4 !== false && !spec.epilogue && vec4Operands(spec).b) return tiledMatmulVec4Program(spec, caps, tiles);
  const { M, N, batchDims } = spec;
  const { tm, tn, threads, quad } = tiles;
  const rank = batchDims.length;
  for (const op of [spec.a, spec.b, spec.c]) {
    if (op && op.batchStrides.length !== rank) fail('INTERNAL', `${spec.label}: operand batch strides do not match the batch rank`);
  }
  const batch = batchDims.reduce((p, d) => p * d, 1);
  const colsPerGroup = threads * tn;
  const nbx = Math.ceil(N / colsPerGroup);
  const nby = Math.ceil(M / tm);
  const groups = nbx * nby * batch;

  const b = new ShaderBuilder(caps);
  if (quad) {
    b.directive('enable subgroups;');
    // quadBroadcast runs in quad-uniform control flow here (the only early exit is per workgroup).
    b.directive('diagnostic(off, subgroup_uniformity);');
  }
  // Bound as flat arrays: all addressing goes through the strides below, so the WGSL does not
  // depend on operand ranks.
  const flat = (m: TensorMeta): TensorMeta => ({ dtype: m.dtype, dims: [m.dims.reduce((p, d) => p * d, 1)] });
  const A = b.input('A', flat(spec.a.meta), spec.a.slot);
  const B = b.input('B', flat(spec.b.meta), spec.b.slot);
  const C = spec.c ? b.input('C', flat(spec.c.meta), spec.c.slot) : undefined;
  const Y = b.output('Y', { dtype: spec.out.dtype, dims: [Math.max(1, batch * M * N)] });
  const T = Y.type;
  const zero = T === 'f32' ? '0.0' : `${T}(0)`;
  const float = T === 'f32';
  const { L, strides, scale } = matmulPrologue(b, spec, { nbx, nby, groups, hasC: C !== undefined, float });
  L.push(`  let bcs = ${strides}(3u);`);
  L.push('  let lane = local_idx & 3u;');
  L.push(`  let r0 = by * ${tm}u;`);
  L.push(`  let c0 = bx * ${colsPerGroup}u + (local_idx >> 2u) * ${4 * tn}u + lane;`);
  // Out-of-range rows/columns read a clamped (valid) address; their results are never stored.
  for (let i = 0; i < tm; i++) L.push(`  let ar${i} = aBase + min(r0 + ${i}u, M - 1u) * ars;`);
  for (let j = 0; j < tn; j++) L.push(`  let bc${j} = bBase + min(c0 + ${4 * j}u, N - 1u) * bcs;`);
  // Accumulators are scalars in the hot loop, then copied into an array that the rarely run tail and
  // epilogue index with loop variables: that keeps the shader (and its JIT time) small. (An array in
  // the hot loop too measured ~2x slower on SwiftShader.)
  for (let i = 0; i < tm * tn; i++) L.push(`  var acc${i} = ${zero};`);
  const ku = 4; // 8 measured no faster on SwiftShader and doubles the JIT time
  const av = (i: number, kk: number): string => (quad ? `quadBroadcast(a${kk >> 2}_${i}, ${kk & 3}u)` : `${A.get(`ar${i} + ka + ${kk}u * acs`)}`);
  L.push(`  let kMain = K - K % ${ku}u;`);
  L.push('  var kb = 0u;');
  L.push(quad ? '  var ka = lane * acs;' : '  var ka = 0u;');
  L.push(`  for (var k = 0u; k < kMain; k += ${ku}u) {`);
  // All loads first, then the arithmetic: one straight block for the JIT.
  if (quad) for (let g = 0; g < ku / 4; g++) for (let i = 0; i < tm; i++) L.push(`    let a${g}_${i} = ${A.get(`ar${i} + ka${g ? ` + ${4 * g}u * acs` : ''}`)};`);
  for (let kk = 0; kk < ku; kk++) {
    for (let j = 0; j < tn; j++) L.push(`    let b${kk}_${j} = ${B.get(`kb + bc${j}`)};`);
    L.push('    kb += brs;');
  }
  for (let kk = 0; kk < ku; kk++) {
    for (let i = 0; i < tm; i++) {
      L.push(`    let s${kk}_${i} = ${T}(${av(i, kk)});`);
      for (let j = 0; j < tn; j++) L.push(`    acc${i * tn + j} += s${kk}_${i} * b${kk}_${j};`);
    }
  }
  L.push(`    ka += ${ku}u * acs;`);
  L.push('  }');
  L.push(`  var acc = array<${T}, ${tm * tn}>(${Array.from({ length: tm * tn }, (_, i) => `acc${i}`).join(', ')});`);
  // K % 4 tail, one k at a time, without quad ops.
  L.push('  ka = kMain * acs;');
  L.push('  for (var k = kMain; k < K; k++) {');
  L.push(`    for (var i = 0u; i < ${tm}u; i++) {`);
  L.push(`      let a = ${A.get('aBase + min(r0 + i, M - 1u) * ars + ka')};`);
  L.push(`      for (var j = 0u; j < ${tn}u; j++) { acc[i * ${tn}u + j] += a * ${B.get(`kb + bBase + min(c0 + 4u * j, N - 1u) * bcs`)}; }`);
  L.push('    }');
  L.push('    kb += brs;');
  L.push('    ka += acs;');
  L.push('  }');
  // Epilogue: alpha, beta*C, activation; then the guarded store.
  if (C) L.push(`  let crs = ${strides}(4u); let ccs = ${strides}(5u);`);
  if (float) L.push(`  let alpha = ${scale}(0u); let beta = ${scale}(1u);`);
  L.push('  let yBase = z * M * N;');
  const activated = float && spec.activation ? wgslActivation(b, spec.activation, 'v') : 'v';
  const loads = float && spec.epilogue ? epilogueLoads(b, spec.epilogueExtras ?? [], spec.outDims ?? [batch * M * N], 'o') : [];
  const store = float && spec.epilogue ? wgslEpilogue(b, spec.epilogue, activated, loads) : activated;
  L.push(`  for (var i = 0u; i < ${tm}u; i++) {`);
  L.push('    let r = r0 + i;');
  L.push('    if (r >= M) { break; }');
  L.push(`    for (var j = 0u; j < ${tn}u; j++) {`);
  L.push('      let c = c0 + 4u * j;');
  L.push('      if (c >= N) { break; }');
  let v = float ? `alpha * acc[i * ${tn}u + j]` : `acc[i * ${tn}u + j]`;
  if (C) v = float ? `${v} + beta * ${C.get('cBase + r * crs + c * ccs')}` : `${v} + ${C.get('cBase + r * crs + c * ccs')}`;
  L.push(`      let v = ${v};`);
  L.push('      let o = yBase + r * N + c;');
  L.push(`      ${Y.set('o', store)}`);
  L.push('    }');
  L.push('  }');
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: groups * threads, workgroupSize: threads });
}

/**
 * What the scalar and vec4 forms share: the uniforms (dims, operand strides, batch dims and strides,
 * alpha/beta) and the WGSL that maps workgroup_idx to its column block bx, row block by and batch z,
 * the per-operand batch offsets aBase/bBase/cBase (innermost batch dim first), and A's strides and B's
 * row stride as lets (uniform reads are not free on software adapters).
 */
export function matmulPrologue(b: ShaderBuilder, spec: TiledMatmulSpec, grid: { nbx: number; nby: number; groups: number; hasC: boolean; float: boolean }): { L: string[]; strides: string; scale: string } {
  const { M, N, K, batchDims } = spec;
  const { nbx, nby, groups, hasC, float } = grid;
  const rank = batchDims.length;
  const dims = b.uniformArray('mm_dims', 'u32', [M, N, K, nbx, nby, groups]);
  const ops = [spec.a, spec.b, ...(spec.c ? [spec.c] : [])];
  const strides = b.uniformArray('mm_strides', 'u32', ops.flatMap((o) => [o.rowStride, o.colStride]));
  const bdims = rank ? b.uniformArray('mm_bdims', 'u32', batchDims) : '';
  const bstr = rank ? b.uniformArray('mm_bstrides', 'u32', ops.flatMap((o) => o.batchStrides)) : '';
  const scale = float ? b.uniformArray('mm_scale', 'f32', [spec.alpha ?? 1, spec.beta ?? 1]) : '';
  const L: string[] = [];
  L.push(`  if (workgroup_idx >= ${dims}(5u)) { return; }`);
  L.push(`  let M = ${dims}(0u); let N = ${dims}(1u); let K = ${dims}(2u);`);
  L.push(`  let bx = workgroup_idx % ${dims}(3u);`);
  L.push(`  let rest = workgroup_idx / ${dims}(3u);`);
  L.push(`  let by = rest % ${dims}(4u);`);
  L.push(`  var bz = rest / ${dims}(4u);`);
  L.push('  let z = bz;');
  L.push('  var aBase = 0u; var bBase = 0u; var cBase = 0u;');
  for (let d = rank - 1; d >= 0; d--) {
    L.push(`  { let i = bz % ${bdims}(${d}u); bz = bz / ${bdims}(${d}u);`);
    L.push(`    aBase += i * ${bstr}(${d}u); bBase += i * ${bstr}(${rank + d}u);${hasC ? ` cBase += i * ${bstr}(${2 * rank + d}u);` : ''} }`);
  }
  L.push(`  let ars = ${strides}(0u); let acs = ${strides}(1u); let brs = ${strides}(2u);`);
  return { L, strides, scale };
}
