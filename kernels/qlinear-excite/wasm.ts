import { QUANT_RANGES } from '../common/quant.ts';
import { toNumbers } from '../common/values.ts';
import type { ImplementationTable, MaybeMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { lookupBase } from '../qlinear-lookup/op.ts';
import { tableFromWasmActivation } from '../qlinear-lookup/wasm.ts';
import type { WasmExport, WasmKernel, WasmKernelContext, WasmKernels, WasmStep } from '../wasm/contract.ts';
import { excitationAttrs, GAP_DQ, GAP_YS, GAP_YZ, MUL_B, MUL_B_DQ, MUL_B_TABLE, MUL_DQ, MUL_YS, MUL_YZ, planMean, planMul, TABLE, X } from './op.ts';

/**
 * The squeeze-excite ops in wasm (kernels/wasm/src/lookup-excite.c): x's bytes through the table,
 * averaged or multiplied, quantized, with the separate wasm steps' float32 operations in their
 * order. The table (rebuilt with the activation's wasm kernel where the lookup step would rebuild
 * it) and the quantization parameters must be constants; otherwise, and for a Mul operand that is
 * not one float per (n, c) row or per element, the op declines (runs js).
 */
const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

interface Quant {
  readonly s: number;
  readonly z: number;
  readonly lo: number;
  readonly hi: number;
}

function constQuant(ctx: WasmKernelContext, ys: number, yz: number): Quant | undefined {
  const [s, z] = [ctx.constants[ys], ctx.constants[yz]];
  const range = z && QUANT_RANGES[z.type];
  if (!s || !z || !range) return undefined;
  return { s: toNumbers(s)[0]!, z: toNumbers(z)[0]!, lo: range[0], hi: range[1] };
}

/** lookup-excite.c's cache of per-row output tables (256 slots of b's bits, chunk mask, 256 bytes) */
const ROW_CACHE_BYTES = 256 * 264;

interface Table {
  readonly data: Float32Array;
  /** the activation's wasm unary step over `dq`, when the node says so */
  readonly rebuild: { dq: Float32Array; code: number; params: readonly [number, number] } | undefined;
}

/** a constant float table (tableSlot) and how prepare rebuilds it; undefined: the node runs js */
function constTable(inputs: readonly MaybeMeta[], ctx: WasmKernelContext, tableSlot: number, dqSlot: number): Table | undefined {
  const table = ctx.constants[tableSlot];
  const rebuild = tableFromWasmActivation(inputs, ctx, dqSlot);
  if (!table || table.type !== 'float32' || rebuild === null) return undefined;
  return { data: table.data as Float32Array, rebuild };
}

function writeTable(k: WasmKernels, at: number, t: Table): void {
  new Float32Array(k.memory.buffer, at, 256).set(t.rebuild ? t.rebuild.dq : t.data);
  if (t.rebuild) k.fn('kiln_unary_f32')(t.rebuild.code, at, at, 256, t.rebuild.params[0], t.rebuild.params[1]);
}

/**
 * The table in persistent memory (rebuilt by the activation's kernel when the node says so), and
 * the call; `more` persistent regions after it: `cacheBytes` zeroed at prepare, then the
 * excitation's table when it is folded in. The call gets (table, cache or 0, excitation table or 0).
 */
function tableStep(inputs: readonly MaybeMeta[], ctx: WasmKernelContext, dqSlot: number, reads: number[], name: string, call: (f: WasmExport, table: number, inputs: readonly number[], output: number, cache: number, bTable: number) => void, cacheBytes = 0, bTable?: Table): WasmStep | undefined {
  const table = constTable(inputs, ctx, TABLE, dqSlot);
  if (!table) return undefined;
  const regions = [1024, ...(cacheBytes > 0 ? [cacheBytes] : []), ...(bTable ? [1024] : [])];
  const [cacheAt, bAt] = [cacheBytes > 0 ? 1 : -1, bTable ? regions.length - 1 : -1];
  let f: WasmExport | undefined;
  return {
    reads,
    scratchBytes: 0,
    persistentBytes: regions,
    prepare(k, at) {
      f = k.fn(name);
      writeTable(k, at.persistent[0]!, table);
      if (cacheAt > 0) new Uint8Array(k.memory.buffer, at.persistent[cacheAt]!, cacheBytes).fill(0);
      if (bTable) writeTable(k, at.persistent[bAt]!, bTable);
    },
    run(k, at) {
      f ??= k.fn(name);
      call(f, at.persistent[0]!, at.inputs as readonly number[], at.outputs[0]!, cacheAt > 0 ? at.persistent[cacheAt]! : 0, bAt > 0 ? at.persistent[bAt]! : 0);
    },
  };
}

const lookupMean: WasmKernel = (inputs, outputs, ctx) => {
  planMean(inputs, ctx);
  const q = constQuant(ctx, GAP_YS, GAP_YZ);
  const x = inputs[X]!;
  if (!q) return undefined;
  const [rows, len] = [x.dims[0]! * x.dims[1]!, count(x.dims.slice(2))];
  const flip = lookupBase(x.dtype) === 0 ? 0 : 1;
  if (rows === 0 || len === 0) return undefined;
  return tableStep(inputs, ctx, GAP_DQ, [X], 'kiln_lookup_mean_q8', (f, table, at, y) => void f(at[X]!, flip, table, rows, len, q.s, q.z, q.lo, q.hi, y));
};

const lookupMul: WasmKernel = (inputs, outputs, ctx) => {
  const out = planMul(inputs, ctx);
  const q = constQuant(ctx, MUL_YS, MUL_YZ);
  const [x, b] = [inputs[X]!, inputs[MUL_B]!];
  if (!q || count(out.dims) === 0) return undefined;
  const flip = lookupBase(x.dtype) === 0 ? 0 : 1;
  // the quantized side per (n, c) row and b the full map (an SE scale, pooled, times the features)
  // the excitation folded in (its bytes and table): one value per (n, c) row only
  const folded = inputs[MUL_B_TABLE] !== undefined;
  const bTable = folded ? constTable(inputs, { ...ctx, attrs: excitationAttrs(ctx.attrs) }, MUL_B_TABLE, MUL_B_DQ) : undefined;
  if (folded && !bTable) return undefined;
  const xRows = !folded && out.dims.length >= 2 && x.dims.length === out.dims.length && x.dims[0] === out.dims[0] && x.dims[1] === out.dims[1] && x.dims.slice(2).every((d) => d === 1);
  if (xRows && b.dims.length === out.dims.length && b.dims.every((d, i) => d === out.dims[i]) && count(x.dims) < count(out.dims)) {
    const [rows, inner] = [out.dims[0]! * out.dims[1]!, count(out.dims.slice(2))];
    return tableStep(inputs, ctx, MUL_DQ, [X, MUL_B], 'kiln_lookup_rowmul_q8', (f, table, at, y) => void f(at[X]!, flip, table, at[MUL_B]!, rows, inner, q.s, q.z, q.lo, q.hi, y));
  }
  if (out.dims.length !== x.dims.length || out.dims.some((d, i) => d !== x.dims[i])) return undefined;
  // b: one float per element (x's shape), or one per (n, c) row: [N or 1, C, 1, ...] right-aligned to x
  const bd = [...new Array<number>(Math.max(0, x.dims.length - b.dims.length)).fill(1), ...b.dims];
  const full = bd.every((d, i) => d === x.dims[i]);
  const perRow = x.dims.length >= 2 && bd[1] === x.dims[1] && (bd[0] === 1 || bd[0] === x.dims[0]) && bd.slice(2).every((d) => d === 1);
  if ((!full && !perRow) || (folded && full)) return undefined;
  const [rows, inner] = full ? [1, count(x.dims)] : [x.dims[0]! * x.dims[1]!, count(x.dims.slice(2))];
  const bRows = full ? 1 : count(b.dims);
  // rows of >= 32 bytes (lookup-excite.c's ROW_TABLE_MIN) by b read through cached output tables
  const cache = !full && inner >= 32 ? ROW_CACHE_BYTES : 0;
  const bFlip = lookupBase(b.dtype) === 0 ? 0 : 1;
  return tableStep(inputs, ctx, MUL_DQ, [X, MUL_B], 'kiln_lookup_mul_q8', (f, table, at, y, c, bt) => void f(at[X]!, flip, table, at[MUL_B]!, bRows, full ? 1 : 0, rows, inner, q.s, q.z, q.lo, q.hi, c, bt, bFlip, y), cache, bTable);
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('kiln', 'QLinearLookupGlobalAveragePool')]: lookupMean,
  [opKey('kiln', 'QLinearLookupMul')]: lookupMul,
};
