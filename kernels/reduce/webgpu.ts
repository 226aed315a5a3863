import { product } from '../common/shape.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { COMBINE, rowWorkgroupSize, workgroupArgReduce, workgroupReduce, wgslHighest, wgslLog, wgslLowest } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { WgslType } from '../webgpu/storage.ts';
import { IDENTITY, IDENTITY_ALONE, REDUCE_SPECS, reduceLayout, resolveArg, resolveReduce, type ReduceSpec } from './op.ts';
import type { Program } from '../fused-elementwise/program.ts';
import { wgslEpilogue } from '../fused-elementwise/webgpu.ts';

/** WGSL: flat offset of element `i` of a coalesced sub-space whose dims/strides are uniform arrays. */
function offsetHelper(b: ShaderBuilder, fn: string, dims: readonly number[], strides: readonly number[]): void {
  const d = b.uniformArray(`${fn}_dims`, 'u32', dims);
  const s = b.uniformArray(`${fn}_strides`, 'u32', strides);
  const lines = [`fn ${fn}(i: u32) -> u32 {`, '  var rest = i;', '  var off = 0u;'];
  for (let k = dims.length - 1; k >= 0; k--) lines.push(`  off += (rest % ${d}(${k}u)) * ${s}(${k}u);`, `  rest = rest / ${d}(${k}u);`);
  lines.push('  return off;', '}');
  b.helper(fn, lines.join('\n'));
}

/**
 * Below this many elements per output, one invocation per output beats a workgroup per output.
 * On software adapters (SwiftShader) always: a workgroup runs on one CPU thread there, so a
 * workgroup per output gains no parallelism, and each of its barriers switches every invocation's
 * fiber. Measured (bench/, GlobalAveragePool 1x72x6x24 in PaddleOCR's classifier): 397 ms with a
 * 256-wide workgroup per output, 3 ms with one invocation per output.
 */
const WORKGROUP_ROW_MIN = 64;

/** `epilogue`: a unary tail folded in by the WebGPU fusion pass (GlobalAveragePool's fake quantization), on each f32 result. */
export function reduceGpu(spec: ReduceSpec, x: TensorMeta, y: TensorMeta, axes: ReadonlySet<number>, ctx: GpuKernelContext, epilogue?: Program): GpuLowering | undefined {
  if (product(y.dims) === 0) return { kind: 'programs', programs: [] };
  const lay = reduceLayout(x.dims, axes);
  const b = new ShaderBuilder(ctx.caps);
  // An empty reduction (a zero-size reduced axis) reads nothing: every output is post(identity).
  const empty = product(x.dims) === 0;
  const X = empty ? undefined : b.input('X', x, 0);
  const Y = b.output('Y', { dtype: y.dtype, dims: [lay.outputs] });
  const st = Y.type;
  const ct: WgslType = spec.float ? 'f32' : st;
  const nOut = b.uniform('n_out', 'u32', lay.outputs);
  const R = b.uniform('n_red', 'u32', lay.reduced);
  offsetHelper(b, 'kept_base', lay.keptDims, lay.keptStrides);
  offsetHelper(b, 'red_off', lay.redDims, lay.redStrides);
  const lowest = spec.combine === 'max' || spec.shiftByMax ? wgslLowest(b, ct) : '';
  if (spec.float) wgslLog(b);
  const init = spec.combine === 'sum' ? `${ct}(0)` : spec.combine === 'prod' ? `${ct}(1)` : spec.combine === 'max' ? lowest : wgslHighest(b, ct);
  const load = (r: string): string => `${ct}(${X!.get(`base + red_off(${r})`)})`;
  const pre = (v: string): string => (spec.wgslPre ? spec.wgslPre(v, ct) : v);
  const finish = (v: string): string => (epilogue ? wgslEpilogue(b, epilogue, v) : v);
  // LogSumExp: `sh` is the row maximum, or 0 when that is -inf (empty or all -inf rows)
  const post = (acc: string): string => {
    const p = spec.wgslPost ? spec.wgslPost(acc, R, ct) : acc;
    return finish(`${st}(${spec.shiftByMax ? `${p} + sh` : p})`);
  };
  const label = `${spec.opType}:${ctx.node}`;
  if (empty) {
    // The value over nothing, computed as the reference does (0/0 is NaN for ReduceMean; WGSL leaves
    // a float division by zero to the adapter); integer outputs take the WGSL identity.
    const isFloat = st === 'f32';
    const value = isFloat ? finish(`${st}(${b.uniform('empty_value', 'f32', spec.cpuPost ? spec.cpuPost(IDENTITY[spec.combine], 0) : IDENTITY[spec.combine])})`) : post(init);
    const body = [`  if (global_idx >= ${nOut}) { return; }`, `  ${Y.set('global_idx', value)}`].join('\n');
    return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: lay.outputs })] };
  }
  if (lay.reduced < WORKGROUP_ROW_MIN || ctx.caps.software) {
    // A reduced run that is contiguous reads x[base + r]; one whose every row starts at a multiple of 4
    // reads it as vec4 and combines the four lanes in order, so the results are the scalar loop's. On
    // SwiftShader each load costs per lane whatever its width, and red_off's division per element more:
    // GlobalAveragePool of 16 x 24 x 24 took 0.17 ms.
    const contiguous = lay.redDims.length === 1 && lay.redStrides[0] === 1;
    const vec4 = contiguous && !X!.packedPerWord && lay.reduced % 4 === 0 && lay.keptStrides.every((k) => k % 4 === 0);
    if (vec4) b.declareVec4(X!.name);
    const each = (stmt: (v: string) => string): string => (vec4
      ? `  for (var r = 0u; r < ${R} / 4u; r++) { let x4 = ${X!.name}[base / 4u + r]; ${[0, 1, 2, 3].map((l) => `{ ${stmt(`${ct}(x4[${l}])`)} }`).join(' ')} }`
      : `  for (var r = 0u; r < ${R}; r++) { ${stmt(contiguous ? `${ct}(${X!.get('base + r')})` : load('r'))} }`);
    const body = [
      `  if (global_idx >= ${nOut}) { return; }`,
      '  let base = kept_base(global_idx);',
      spec.shiftByMax ? `  var shift = ${lowest};\n${each((v) => `shift = max(shift, ${v});`)}\n  let sh = select(shift, 0.0, shift == ${lowest});` : '',
      `  var acc = ${init};`,
      each((v) => `let v = ${v}${spec.shiftByMax ? ' - sh' : ''}; acc = ${COMBINE[spec.combine]('acc', pre('v'))};`),
      `  ${Y.set('global_idx', post('acc'))}`,
    ].join('\n');
    return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: lay.outputs })] };
  }
  const wg = rowWorkgroupSize(lay.reduced, ctx.caps);
  const red = workgroupReduce(b, spec.combine, ct, wg);
  const body = [
    '  let o = workgroup_idx;',
    `  if (o >= ${nOut}) { return; }`,
    '  let base = kept_base(o);',
    spec.shiftByMax
      ? `  var m = ${lowest};\n  for (var r = local_idx; r < ${R}; r += ${wg}u) { m = max(m, ${load('r')}); }\n  let shift = ${workgroupReduce(b, 'max', ct, wg)}(local_idx, m);\n  let sh = select(shift, 0.0, shift == ${lowest});`
      : '',
    `  var acc = ${init};`,
    `  for (var r = local_idx; r < ${R}; r += ${wg}u) { let v = ${load('r')}${spec.shiftByMax ? ' - sh' : ''}; acc = ${COMBINE[spec.combine]('acc', pre('v'))}; }`,
    `  let total = ${red}(local_idx, acc);`,
    `  if (local_idx == 0u) { ${Y.set('o', post('total'))} }`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: lay.outputs * wg, workgroupSize: wg })] };
}

function reduceLowering(spec: ReduceSpec): WebGpuKernel {
  return (inputs, outputs, ctx) => {
    const { x, axes } = resolveReduce(spec, inputs, ctx);
    // no axes: a plain copy when the op's single-element value is the element, else the CPU
    if (!axes) return IDENTITY_ALONE.has(spec.opType) ? { kind: 'view', input: 0 } : undefined;
    return reduceGpu(spec, x, outputs[0]!, axes, ctx);
  };
}

function argLowering(opType: 'ArgMax' | 'ArgMin'): WebGpuKernel {
  const better = opType === 'ArgMax' ? 'max' : 'min';
  return (inputs, _outputs, ctx) => {
    const { x, axis } = resolveArg(opType, inputs, ctx);
    if (product(x.dims) === 0) return undefined;
    const last = ctx.attrs.int('select_last_index', 0) !== 0;
    const L = x.dims[axis]!;
    const inner = product(x.dims, axis + 1);
    const rows = product(x.dims) / L;
    const b = new ShaderBuilder(ctx.caps);
    const X = b.input('X', x, 0);
    const Y = b.output('Y', { dtype: 'int64', dims: [rows] });
    const nRows = b.uniform('n_rows', 'u32', rows);
    const len = b.uniform('len', 'u32', L);
    const inn = b.uniform('inner', 'u32', inner);
    const cmp = better === 'max' ? '>' : '<';
    const label = `${opType}:${ctx.node}`;
    const baseOf = (row: string): string => `(${row} / ${inn}) * ${len} * ${inn} + ${row} % ${inn}`;
    if (L < WORKGROUP_ROW_MIN) {
      const body = [
        `  if (global_idx >= ${nRows}) { return; }`,
        `  let base = ${baseOf('global_idx')};`,
        `  var best = ${X.get('base')};`,
        '  var at = 0u;',
        `  for (var j = 1u; j < ${len}; j++) {`,
        `    let v = ${X.get(`base + j * ${inn}`)};`,
        `    if (v ${cmp}${last ? '=' : ''} best) { best = v; at = j; }`,
        '  }',
        `  ${Y.set('global_idx', 'i32(at)')}`,
      ].join('\n');
      return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: rows })] };
    }
    const wg = rowWorkgroupSize(L, ctx.caps);
    const arg = workgroupArgReduce(b, better, X.type, wg, last);
    const body = [
      '  let row = workgroup_idx;',
      `  if (row >= ${nRows}) { return; }`,
      `  let base = ${baseOf('row')};`,
      `  var best = ${X.get('base')};`,
      '  var at = 0xffffffffu;',
      `  for (var j = local_idx; j < ${len}; j += ${wg}u) {`,
      `    let v = ${X.get(`base + j * ${inn}`)};`,
      `    if (at == 0xffffffffu || v ${cmp}${last ? '=' : ''} best) { best = v; at = j; }`,
      '  }',
      `  let idx = ${arg}(local_idx, best, at);`,
      `  if (local_idx == 0u) { ${Y.set('row', 'i32(idx)')} }`,
    ].join('\n');
    return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: rows * wg, workgroupSize: wg })] };
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = {
  ...Object.fromEntries(REDUCE_SPECS.map((s) => [opKey('', s.opType), reduceLowering(s)])),
  [opKey('', 'ArgMax')]: argLowering('ArgMax'),
  [opKey('', 'ArgMin')]: argLowering('ArgMin'),
};
