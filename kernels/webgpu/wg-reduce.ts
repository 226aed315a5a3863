import type { ShaderBuilder } from './shader-builder.ts';
import type { WgslType } from './storage.ts';
import type { GpuCaps } from '../webgpu/contract.ts';

/**
 * Workgroup-wide reductions through shared memory, for kernels that give one workgroup to each
 * row (Softmax, LayerNorm, Reduce*, ArgMax...): a long row is read by every invocation of the
 * workgroup in strides, then combined in log2(wg) steps instead of one invocation walking it.
 */
export type CombineOp = 'sum' | 'prod' | 'max' | 'min';

export const COMBINE: Record<CombineOp, (a: string, b: string) => string> = {
  sum: (a, b) => `${a} + ${b}`,
  prod: (a, b) => `${a} * ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
};

/** A power-of-two workgroup size for rows of `rowLength` elements, within the device limit. */
export function rowWorkgroupSize(rowLength: number, caps: GpuCaps): number {
  const cap = Math.min(256, caps.maxInvocationsPerWorkgroup);
  let wg = 32;
  while (wg < cap && wg < rowLength) wg *= 2;
  return wg;
}

/**
 * Registers `kiln_wg_<op>_<type>(local_idx, v)`, which combines `v` over the workgroup and returns
 * the result to every invocation. It contains barriers: call it from uniform control flow only.
 */
export function workgroupReduce(b: ShaderBuilder, op: CombineOp, type: WgslType, wg: number): string {
  const fn = `kiln_wg_${op}_${type}`;
  const shm = `${fn}_shm`;
  b.helper(fn, [
    `var<workgroup> ${shm}: array<${type}, ${wg}>;`,
    `fn ${fn}(lid: u32, v: ${type}) -> ${type} {`,
    `  ${shm}[lid] = v;`,
    '  workgroupBarrier();',
    `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    `    if (lid < s) { ${shm}[lid] = ${COMBINE[op](`${shm}[lid]`, `${shm}[lid + s]`)}; }`,
    '    workgroupBarrier();',
    '  }',
    `  let r = ${shm}[0];`,
    '  workgroupBarrier();',
    '  return r;',
    '}',
  ].join('\n'));
  return fn;
}

/**
 * Registers `kiln_wg_arg<max|min>_<type>(local_idx, v, i) -> u32`: the index of the best value over
 * the workgroup; ties go to the lowest index, or the highest when `lastIndex`. An invocation with
 * nothing to offer passes i = 0xffffffffu (never chosen over a real candidate).
 */
export function workgroupArgReduce(b: ShaderBuilder, better: 'max' | 'min', type: WgslType, wg: number, lastIndex: boolean): string {
  const fn = `kiln_wg_arg${better}${lastIndex ? '_last' : ''}_${type}`;
  const cmp = better === 'max' ? '>' : '<';
  b.helper(fn, [
    `var<workgroup> ${fn}_v: array<${type}, ${wg}>;`,
    `var<workgroup> ${fn}_i: array<u32, ${wg}>;`,
    `fn ${fn}(lid: u32, v: ${type}, i: u32) -> u32 {`,
    `  ${fn}_v[lid] = v;`,
    `  ${fn}_i[lid] = i;`,
    '  workgroupBarrier();',
    `  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {`,
    '    if (lid < s) {',
    `      let ov = ${fn}_v[lid + s]; let oi = ${fn}_i[lid + s];`,
    `      let cv = ${fn}_v[lid]; let ci = ${fn}_i[lid];`,
    `      if (oi != 0xffffffffu && (ci == 0xffffffffu || ov ${cmp} cv || (ov == cv && oi ${lastIndex ? '>' : '<'} ci))) {`,
    `        ${fn}_v[lid] = ov; ${fn}_i[lid] = oi;`,
    '      }',
    '    }',
    '    workgroupBarrier();',
    '  }',
    `  let r = ${fn}_i[0];`,
    '  workgroupBarrier();',
    '  return r;',
    '}',
  ].join('\n'));
  return fn;
}

// Infinities come through uniforms: a WGSL constant expression that evaluates to inf is a
// shader-creation error. Declared once per builder however often they are asked for.
const declared = new WeakMap<ShaderBuilder, Set<string>>();
function infinity(b: ShaderBuilder, name: string, value: number): string {
  const seen = declared.get(b) ?? new Set<string>();
  declared.set(b, seen);
  if (!seen.has(name)) b.uniform(name, 'f32', value);
  seen.add(name);
  return `${name}(0u)`;
}

/** WGSL expressions for the extreme values of a storage type, as reduction identities. */
export function wgslLowest(b: ShaderBuilder, type: WgslType): string {
  if (type === 'f32') return infinity(b, 'kiln_neg_inf', -Infinity);
  return type === 'i32' ? 'bitcast<i32>(0x80000000u)' : '0u';
}

export function wgslHighest(b: ShaderBuilder, type: WgslType): string {
  if (type === 'f32') return infinity(b, 'kiln_pos_inf', Infinity);
  return type === 'i32' ? '2147483647i' : '0xffffffffu';
}

/** Registers `kiln_log(x)`: log with log(0) = -inf exactly (software adapters return about -88). */
export function wgslLog(b: ShaderBuilder): string {
  b.helper('kiln_log', `fn kiln_log(x: f32) -> f32 { return select(log(x), ${wgslLowest(b, 'f32')}, x == 0.0); }`);
  return 'kiln_log';
}
