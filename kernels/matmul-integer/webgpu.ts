import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { matmulIntegerPlan, type IntMatmulShape, type RowColParam } from './op.ts';

// ---------------------------------------------------------------------------------------------
// WebGPU core: each invocation owns a TM x TN register tile of one output matrix, accumulating in
// i32. A packed B (an int8/uint8 constant weight) with N % 4 == 0 is read a word at a time: one
// u32 holds the tile's four columns for one k.
// ---------------------------------------------------------------------------------------------

export interface IntMatmulGpuSpec {
  readonly b: ShaderBuilder;
  readonly A: TensorVar;
  readonly B: TensorVar;
  readonly bMeta: TensorMeta;
  readonly shape: IntMatmulShape;
  readonly azp?: { readonly v: TensorVar; readonly p: RowColParam };
  readonly bzp?: { readonly v: TensorVar; readonly p: RowColParam };
  /**
   * WGSL statements storing accumulator `acc` (i32) for output row `m`, column `n` at flat output
   * offset `o`; `amat` / `bmat` are the operands' own matrix indices (for batched parameters).
   */
  readonly epilogue: (acc: string, m: string, n: string, o: string) => string;
  readonly label: string;
  /** WGSL i32 expression of A's integer value at flat offset `off` (default: the stored element) */
  readonly loadA?: (off: string) => string;
}

const TN = 4;

export function intMatmulProgram(spec: IntMatmulGpuSpec): GpuProgram {
  const { b, A, B, shape: s } = spec;
  const tm = Math.min(4, Math.max(1, s.M));
  const nrb = Math.ceil(s.M / tm);
  const ncb = Math.ceil(s.N / TN);
  const total = s.M * s.N === 0 ? 0 : s.batch * nrb * ncb;
  const u = {
    total: b.uniform('total', 'u32', total),
    ncb: b.uniform('ncb', 'u32', ncb),
    nrb: b.uniform('nrb', 'u32', nrb),
    M: b.uniform('M', 'u32', s.M),
    K: b.uniform('K', 'u32', s.K),
    N: b.uniform('N', 'u32', s.N),
  };
  const br = s.batchDims.length;
  const bDims = b.uniformArray('batch_dims', 'u32', s.batchDims);
  const aStr = b.uniformArray('a_bstrides', 'u32', s.aBatchStrides);
  const bStr = b.uniformArray('b_bstrides', 'u32', s.bBatchStrides);
  const words = spec.bMeta.packed === true && s.N % 4 === 0;
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${u.total}) { return; }`);
  line(`let M = ${u.M}; let K = ${u.K}; let N = ${u.N};`);
  line(`let cb = global_idx % ${u.ncb};`);
  line(`let rb = (global_idx / ${u.ncb}) % ${u.nrb};`);
  line(`let bi = global_idx / (${u.ncb} * ${u.nrb});`);
  line('var a_off = 0u; var b_off = 0u;');
  if (br > 0) {
    line('var rest = bi;');
    for (let d = br - 1; d >= 0; d--) {
      line(`{ let i = rest % ${bDims}(${d}u); rest = rest / ${bDims}(${d}u); a_off += i * ${aStr}(${d}u); b_off += i * ${bStr}(${d}u); }`);
    }
  }
  line('let amat = a_off / max(M * K, 1u);');
  line('let bmat = b_off / max(K * N, 1u);');
  const zp = (z: IntMatmulGpuSpec['azp'], mat: string, len: string, i: string): string => {
    if (!z) return '0';
    const off = z.p.kind === 'scalar' ? '0u' : z.p.kind === 'vector' ? i : `${mat} * ${len} + ${i}`;
    return `i32(${z.v.get(off)})`;
  };
  for (let i = 0; i < tm; i++) {
    line(`let m${i} = min(rb * ${tm}u + ${i}u, M - 1u);`);
    line(`let ar${i} = a_off + m${i} * K;`);
    line(`let za${i} = ${zp(spec.azp, 'amat', 'M', `m${i}`)};`);
  }
  for (let j = 0; j < TN; j++) {
    line(`let n${j} = min(cb * ${TN}u + ${j}u, N - 1u);`);
    line(`let zb${j} = ${zp(spec.bzp, 'bmat', 'N', `n${j}`)};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`var acc${i}_${j} = 0;`);
  line('for (var k = 0u; k < K; k++) {');
  const loadA = spec.loadA ?? ((off: string): string => `i32(${A.get(off)})`);
  for (let i = 0; i < tm; i++) line(`  let a${i} = ${loadA(`ar${i} + k`)} - za${i};`);
  if (words) {
    // the tile's columns n0..n0+3 share one word of B's row k (n0 and N are multiples of 4)
    line(`  let w = ${B.name}[(b_off + k * N + n0) >> 2u];`);
    for (let j = 0; j < TN; j++) {
      const v = B.type === 'i32' ? `extractBits(bitcast<i32>(w), ${8 * j}u, 8u)` : `i32(extractBits(w, ${8 * j}u, 8u))`;
      line(`  let b${j} = ${v} - zb${j};`);
    }
  } else {
    line('  let br = b_off + k * N;');
    for (let j = 0; j < TN; j++) line(`  let b${j} = i32(${B.get(`br + n${j}`)}) - zb${j};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`  acc${i}_${j} += a${i} * b${j};`);
  line('}');
  // The epilogue runs in a loop over the tile, not unrolled: requantization helpers are long and
  // the shader compiler inlines every call site.
  const list = (xs: string[]): string => xs.join(', ');
  line(`var accs = array<i32, ${tm * TN}>(${list(Array.from({ length: tm * TN }, (_, t) => `acc${Math.floor(t / TN)}_${t % TN}`))});`);
  line(`var ms = array<u32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => `m${i}`))});`);
  line(`var ns = array<u32, ${TN}>(${list(Array.from({ length: TN }, (_, j) => `n${j}`))});`);
  line(`for (var t = 0u; t < ${tm * TN}u; t++) {`);
  line(`  let ti = t / ${TN}u; let tj = t % ${TN}u;`);
  line(`  if (rb * ${tm}u + ti >= M || cb * ${TN}u + tj >= N) { continue; }`);
  line('  let m = ms[ti]; let n = ns[tj];');
  line('  let o = (bi * M + m) * N + n;');
  L.push(spec.epilogue('accs[t]', 'm', 'n', 'o').split('\n').map((t) => `    ${t}`).join('\n'));
  line('}');
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: total });
}

/** The GPU view of a (possibly rank-0) tensor: rank 0 reads as [1]. */
export const gpuMeta = (m: TensorMeta): TensorMeta => (m.dims.length ? m : { ...m, dims: [1] });

const matmulInteger: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  const p = matmulIntegerPlan(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const A = b.input('A', inputs[0]!, 0);
  const B = b.input('B', inputs[1]!, 1);
  const AZ = inputs[2] && p.azp ? { v: b.input('AZ', gpuMeta(inputs[2]), 2), p: p.azp } : undefined;
  const BZ = inputs[3] && p.bzp ? { v: b.input('BZ', gpuMeta(inputs[3]), 3), p: p.bzp } : undefined;
  const Y = b.output('Y', gpuMeta(outputs[0]!));
  const program = intMatmulProgram({
    b, A, B, bMeta: inputs[1]!, shape: p.shape, azp: AZ, bzp: BZ,
    epilogue: (acc, _m, _n, o) => Y.set(o, acc),
    label: `MatMulInteger:${ctx.node}`,
  });
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'MatMulInteger')]: matmulInteger };
