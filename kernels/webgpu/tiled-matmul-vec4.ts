import { ShaderBuilder } from './shader-builder.ts';
import type { TensorMeta } from '../contract.ts';
import type { GpuCaps, GpuProgram } from '../webgpu/contract.ts';
import { wgslActivation } from '../common/activation.ts';
import { matmulPrologue, type MatmulOperand, type MatmulTiles, type TiledMatmulSpec } from './tiled-matmul.ts';

/**
 * The vec4 form of the register-tiled matrix product (tiled-matmul.ts): B, Y and (where it can) A
 * are read and written four elements at a time. Each thread owns `tm` rows and `4 * tg` columns as
 * `tg` vec4 groups; consecutive threads own consecutive vec4 groups, so on hardware GPUs a
 * workgroup's B loads and Y stores are coalesced 16-byte accesses. Per k a thread issues
 * tm/4 (vec4 A) or tm (scalar A) loads plus tg vec4 B loads for 4 * tm * tg multiply-adds.
 *
 * Applies where every B access is a whole aligned vec4 (`vec4Operands`): B's columns contiguous,
 * N, B's row stride and batch strides multiples of 4. A is read as vec4 along k under the same
 * conditions on its columns and K. Not used with quad tiling: on SwiftShader a vec4 load is four
 * gathers (measured no gain, tiled-matmul.ts), and the quad form shares A values instead.
 */
export function vec4Operands(spec: TiledMatmulSpec): { b: boolean; a: boolean } {
  const aligned = (o: MatmulOperand, inner: number): boolean => o.colStride === 1 && inner % 4 === 0 && o.rowStride % 4 === 0 && o.batchStrides.every((s) => s % 4 === 0);
  const b = spec.N > 0 && aligned(spec.b, spec.N);
  return { b, a: b && aligned(spec.a, spec.K) };
}

export function tiledMatmulVec4Program(spec: TiledMatmulSpec, caps: GpuCaps, tiles: MatmulTiles): GpuProgram {
  const { M, N, batchDims } = spec;
  const { tm, threads } = tiles;
  const tg = Math.max(1, tiles.tn >> 2); // vec4 column groups per thread
  const aVec = vec4Operands(spec).a;
  const batch = batchDims.reduce((p, d) => p * d, 1);
  const colsPerGroup = threads * tg * 4;
  const nbx = Math.ceil(N / colsPerGroup);
  const nby = Math.ceil(M / tm);
  const groups = nbx * nby * batch;

  const b = new ShaderBuilder(caps);
  const flat = (m: TensorMeta): TensorMeta => ({ dtype: m.dtype, dims: [m.dims.reduce((p, d) => p * d, 1)] });
  const A = b.input('A', flat(spec.a.meta), spec.a.slot);
  b.input('B', flat(spec.b.meta), spec.b.slot); // read below as vec4s, B[i]
  const C = spec.c ? b.input('C', flat(spec.c.meta), spec.c.slot) : undefined;
  const Y = b.output('Y', { dtype: spec.out.dtype, dims: [Math.max(1, batch * M * N)] });
  b.declareVec4('B');
  b.declareVec4('Y');
  if (aVec) b.declareVec4('A');
  const T = Y.type;
  const V = `vec4<${T}>`;
  const float = T === 'f32';
  const { L, strides, scale } = matmulPrologue(b, spec, { nbx, nby, groups, hasC: C !== undefined, float });
  // A's element e, whichever way A is declared
  const aAt = (e: string): string => (aVec ? `A[(${e}) >> 2u][(${e}) & 3u]` : A.get(e));
  L.push(`  let r0 = by * ${tm}u;`);
  // column of group g: consecutive threads, consecutive vec4s (N % 4 == 0: a group is all in or all out)
  for (let g = 0; g < tg; g++) L.push(`  let c${g} = bx * ${colsPerGroup}u + (${g * threads}u + local_idx) * 4u;`);
  for (let i = 0; i < tm; i++) L.push(`  let ar${i} = aBase + min(r0 + ${i}u, M - 1u) * ars;`);
  for (let g = 0; g < tg; g++) L.push(`  let bc${g} = bBase + min(c${g}, N - 4u);`);
  for (let i = 0; i < tm * tg; i++) L.push(`  var acc${i} = ${V}();`);
  L.push('  let kMain = K - K % 4u;');
  L.push('  var kb = 0u;');
  L.push('  for (var k = 0u; k < kMain; k += 4u) {');
  for (let i = 0; i < tm; i++) {
    if (aVec) L.push(`    let a${i} = A[(ar${i} + k) >> 2u];`);
    else L.push(`    let a${i} = ${V}(${[0, 1, 2, 3].map((kk) => aAt(`ar${i} + (k + ${kk}u) * acs`)).join(', ')});`);
  }
  for (let kk = 0; kk < 4; kk++) {
    for (let g = 0; g < tg; g++) L.push(`    let b${kk}_${g} = B[(kb + bc${g}) >> 2u];`);
    L.push('    kb += brs;');
  }
  for (let kk = 0; kk < 4; kk++) {
    for (let i = 0; i < tm; i++) for (let g = 0; g < tg; g++) L.push(`    acc${i * tg + g} += a${i}[${kk}] * b${kk}_${g};`);
  }
  L.push('  }');
  L.push(`  var acc = array<${V}, ${tm * tg}>(${Array.from({ length: tm * tg }, (_, i) => `acc${i}`).join(', ')});`);
  // K % 4 tail (only when A is scalar: a vec4 A needs K % 4 == 0)
  L.push('  for (var k = kMain; k < K; k++) {');
  L.push(`    for (var i = 0u; i < ${tm}u; i++) {`);
  L.push(`      let a = ${aAt('aBase + min(r0 + i, M - 1u) * ars + k * acs')};`);
  L.push(`      acc[i * ${tg}u] += a * B[(kb + bc0) >> 2u];`);
  for (let g = 1; g < tg; g++) L.push(`      acc[i * ${tg}u + ${g}u] += a * B[(kb + bc${g}) >> 2u];`);
  L.push('    }');
  L.push('    kb += brs;');
  L.push('  }');
  if (C) L.push(`  let crs = ${strides}(4u); let ccs = ${strides}(5u);`);
  if (float) L.push(`  let alpha = ${scale}(0u); let beta = ${scale}(1u);`);
  L.push('  let yBase = z * M * N;');
  const act = float && spec.activation ? wgslActivation(b, spec.activation, 'v') : 'v';
  L.push(`  var cols = array<u32, ${tg}>(${Array.from({ length: tg }, (_, g) => `c${g}`).join(', ')});`);
  L.push(`  for (var i = 0u; i < ${tm}u; i++) {`);
  L.push('    let r = r0 + i;');
  L.push('    if (r >= M) { break; }');
  L.push(`    for (var g = 0u; g < ${tg}u; g++) {`);
  L.push('      let c = cols[g];');
  L.push('      if (c >= N) { break; }');
  L.push(`      var s = ${float ? 'alpha * ' : ''}acc[i * ${tg}u + g];`);
  if (C) {
    const cAt = (l: number): string => C.get(`cBase + r * crs + (c + ${l}u) * ccs`);
    L.push(`      s += ${float ? 'beta * ' : ''}${V}(${[0, 1, 2, 3].map(cAt).join(', ')});`);
  }
  if (act !== 'v') L.push(`      for (var l = 0u; l < 4u; l++) { let v = s[l]; s[l] = ${act}; }`);
  L.push('      Y[(yBase + r * N + c) >> 2u] = s;');
  L.push('    }');
  L.push('  }');
  return b.build({ label: `${spec.label}/vec4`, body: L.join('\n'), totalInvocations: groups * threads, workgroupSize: threads });
}
