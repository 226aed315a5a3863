// What the calling thread and the pool's workers agree on: the control block's layout in the shared
// memory and how a GEMM is split into parts. Imported by both sides (thread-pool.ts and
// thread-worker-loop.ts), so it imports nothing that a worker cannot load.

import { ROW_PARALLEL_EXPORTS } from '../../../kernels/wasm/contract.ts';

/** Int32 slots of the control block (CONTROL_BYTES at a fixed offset of the shared memory). */
export const Slot = {
  /**
   * The claim word (claimWord): the job's generation, its part count and the next unclaimed part.
   * The caller publishes a job by storing it (after the job's arguments) and notifies; workers
   * Atomics.wait on it. Everyone takes parts by compareExchange on it (claimPart).
   */
  Claim: 0,
  /** parts finished (or failed) of the current job; the caller waits on it until it reaches the part count */
  Done: 1,
  /** JobKind */
  Kind: 2,
  /** parts of the current job (also in the claim word, which is what claimers read) */
  Parts: 3,
  /** Split */
  SplitBy: 4,
  /** kiln_gemm_f32's arguments, in order (lo and hi as f32 bits) */
  Args: 5,
  /** always 0: Atomics.wait(.., Probe, 1, 0) tells whether this thread may block */
  Probe: 16,
  /** set by a worker whose part threw (the caller reports it instead of waiting forever) */
  Failed: 17,
  /** workers in (or about to enter) Atomics.wait: the caller notifies only when some are, so a spinning pool costs no wake-up call */
  Sleepers: 62,
  /** parts run by workers so far (benches and tests report how much the workers help) */
  WorkerParts: 63, // the last slot: a row job's arguments fill 18..49
} as const;
// 256: a row job carries up to 32 arguments (kiln_dwconv_s16_part takes 28 before its range)
export const CONTROL_BYTES = 256;

/** Claim word fields: generation (8 bits) | parts (12 bits) | next part (12 bits). */
const PART_BITS = 12;
const PART_MASK = (1 << PART_BITS) - 1;
/** The most parts one job may have (the claim word's field width). */
export const MAX_PARTS = PART_MASK;

export function claimWord(generation: number, parts: number, next: number): number {
  return (((generation & 0xff) << (2 * PART_BITS)) | (parts << PART_BITS) | next) | 0;
}

export function claimedPart(claim: number): number {
  return claim & PART_MASK;
}

/** The part count in a claim word or a claim. */
export function claimParts(word: number): number {
  return (word >>> PART_BITS) & PART_MASK;
}

/** Whether the published job has a part no thread has claimed yet. */
export function partsUnclaimed(ctl: Int32Array): boolean {
  const w = Atomics.load(ctl, Slot.Claim);
  return (w & PART_MASK) < claimParts(w);
}

/**
 * Takes the next unclaimed part of the published job: -1 when every part is taken, else the claim
 * (claimedPart: the part's index; claimParts: the job's part count).
 * The word holds the part count, so a thread that read the word of an older (finished) job sees
 * nothing left and claims nothing; a successful compareExchange means the part belongs to the job
 * now published, which cannot finish (nor its arguments be overwritten) before this part is
 * counted done. So a claimer reads the job's arguments only after claiming.
 */
export function claimPart(ctl: Int32Array): number {
  let w = Atomics.load(ctl, Slot.Claim);
  for (;;) {
    const next = w & PART_MASK;
    if (next >= claimParts(w)) return -1;
    const seen = Atomics.compareExchange(ctl, Slot.Claim, w, (w + 1) | 0); // next < parts <= PART_MASK: no carry
    if (seen === w) return w & ((1 << (2 * PART_BITS)) - 1);
    w = seen;
  }
}

/**
 * How many parts a split call gets: at least one per thread, more (up to PARTS_PER_THREAD per
 * thread, each at least MIN_PART_MACS) when the work is large, so a worker that wakes late still
 * finds parts to take; never more than `units`. A pure function of the call and the thread count:
 * which thread computes a part never changes its bits.
 */
export function partCount(units: number, threads: number, work: number, cap = MAX_PARTS): number {
  const wanted = Math.max(threads, Math.min(threads * PARTS_PER_THREAD, Math.floor(work / MIN_PART_MACS)));
  return Math.max(1, Math.min(units, cap, wanted));
}
/** Measured in bench/node/wasm-pool-bench.ts (docs/decisions.md, pool-claim). */
export const PARTS_PER_THREAD = 4;
export const MIN_PART_MACS = 64 * 64 * 64;

export const JobKind = { Gemm: 0, Exit: 1, Rows: 2 } as const;

/**
 * Row-parallel exports (kernels/wasm/contract.ts ROW_PARALLEL_EXPORTS): the last two arguments are a
 * row range [row0, row1), and each part gets its own scratch (one argument moved by part * stride
 * bytes). Results do not depend on the split: every row is computed the same way by whichever thread
 * takes it.
 */
export const ROW_EXPORTS = ROW_PARALLEL_EXPORTS;
export { MAX_ROW_PARTS } from '../../../kernels/wasm/contract.ts';
/** Control slots of a row job (the GEMM's Args slots are free while it runs) */
const RowSlot = { Export: 5, Rows: 6, ScratchArg: 7, ScratchStride: 8, Count: 9, FloatMask: 10, Args: 18 } as const;
/** the control block's free slots below Slot.WorkerParts, and at most 32 (FloatMask has one bit per argument) */
const MAX_ROW_ARGS = Math.min(32, Slot.WorkerParts - RowSlot.Args);

export interface RowsCall {
  /** index into ROW_EXPORTS */
  readonly fn: number;
  /** the export's arguments before the row range */
  readonly args: readonly number[];
  /** bit i set: argument i is an f32 */
  readonly floats: number;
  readonly rows: number;
  readonly scratchArg: number;
  readonly scratchStride: number;
}

export function writeRowsArgs(ctl: Int32Array, f32: Float32Array, c: RowsCall): void {
  if (c.args.length > MAX_ROW_ARGS) throw new Error(`a row job takes at most ${MAX_ROW_ARGS} arguments`);
  ctl[RowSlot.Export] = c.fn;
  ctl[RowSlot.Rows] = c.rows;
  ctl[RowSlot.ScratchArg] = c.scratchArg;
  ctl[RowSlot.ScratchStride] = c.scratchStride;
  ctl[RowSlot.Count] = c.args.length;
  ctl[RowSlot.FloatMask] = c.floats;
  c.args.forEach((v, i) => {
    if ((c.floats >> i) & 1) f32[RowSlot.Args + i] = v;
    else ctl[RowSlot.Args + i] = v;
  });
}

export function readRowsArgs(ctl: Int32Array, f32: Float32Array): RowsCall {
  const floats = ctl[RowSlot.FloatMask]!;
  const args = Array.from({ length: ctl[RowSlot.Count]! }, (_, i) => ((floats >> i) & 1 ? f32[RowSlot.Args + i]! : ctl[RowSlot.Args + i]!));
  return { fn: ctl[RowSlot.Export]!, args, floats, rows: ctl[RowSlot.Rows]!, scratchArg: ctl[RowSlot.ScratchArg]!, scratchStride: ctl[RowSlot.ScratchStride]! };
}

/** The full argument list of part `index` (its scratch and its row range), or undefined for no rows. */
export function rowsPart(c: RowsCall, parts: number, index: number): number[] | undefined {
  const [r0, r1] = partRange(c.rows, parts, index);
  if (r1 <= r0) return undefined;
  const args = [...c.args, r0, r1];
  args[c.scratchArg] = args[c.scratchArg]! + index * c.scratchStride;
  return args;
}

export const Split = {
  /** whole packed panels of B (8 columns) per part */
  Columns: 0,
  /** whole 4-row tiles of A and C per part */
  Rows: 1,
} as const;
export type Split = (typeof Split)[keyof typeof Split];

/** Keep in step with kernels/wasm/src/gemm-f32.c (NR, MR). */
export const PANEL_WIDTH = 8;
export const ROW_TILE = 4;

export interface GemmCall {
  a: number;
  lda: number;
  bPacked: number;
  c: number;
  ldc: number;
  m: number;
  n: number;
  k: number;
  flags: number;
  lo: number;
  hi: number;
}

/**
 * Splits `units` units into `parts` contiguous ranges differing by at most one unit; part `index`
 * gets [begin, end). Both sides compute it, so only the part count travels.
 */
export function partRange(units: number, parts: number, index: number): readonly [number, number] {
  const base = Math.floor(units / parts);
  const extra = units % parts;
  const begin = index * base + Math.min(index, extra);
  return [begin, begin + base + (index < extra ? 1 : 0)];
}

/**
 * The sub-GEMM of one part. Splits fall on whole panels (columns) or whole 4-row tiles (rows), so
 * every output element is computed by the same microkernel tile with the same summation order as
 * in one single-threaded call: results are bit-identical whatever the thread count.
 */
export function gemmPart(g: GemmCall, split: Split, parts: number, index: number): GemmCall | undefined {
  if (split === Split.Columns) {
    const [p0, p1] = partRange(Math.ceil(g.n / PANEL_WIDTH), parts, index);
    if (p1 <= p0) return undefined;
    const n0 = p0 * PANEL_WIDTH;
    const n1 = Math.min(g.n, p1 * PANEL_WIDTH);
    return { ...g, bPacked: g.bPacked + p0 * (g.k + 1) * PANEL_WIDTH * 4, c: g.c + n0 * 4, n: n1 - n0 };
  }
  const [t0, t1] = partRange(Math.ceil(g.m / ROW_TILE), parts, index);
  if (t1 <= t0) return undefined;
  const m0 = t0 * ROW_TILE;
  const m1 = Math.min(g.m, t1 * ROW_TILE);
  return { ...g, a: g.a + m0 * g.lda * 4, c: g.c + m0 * g.ldc * 4, m: m1 - m0 };
}

export function writeGemmArgs(ctl: Int32Array, f32: Float32Array, g: GemmCall): void {
  const at = Slot.Args;
  ctl[at] = g.a;
  ctl[at + 1] = g.lda;
  ctl[at + 2] = g.bPacked;
  ctl[at + 3] = g.c;
  ctl[at + 4] = g.ldc;
  ctl[at + 5] = g.m;
  ctl[at + 6] = g.n;
  ctl[at + 7] = g.k;
  ctl[at + 8] = g.flags;
  f32[at + 9] = g.lo;
  f32[at + 10] = g.hi;
}

export function readGemmArgs(ctl: Int32Array, f32: Float32Array): GemmCall {
  const at = Slot.Args;
  return { a: ctl[at]!, lda: ctl[at + 1]!, bPacked: ctl[at + 2]!, c: ctl[at + 3]!, ldc: ctl[at + 4]!, m: ctl[at + 5]!, n: ctl[at + 6]!, k: ctl[at + 7]!, flags: ctl[at + 8]!, lo: f32[at + 9]!, hi: f32[at + 10]! };
}

/** The message a worker gets once: the compiled module, the shared memory, where its stack and the control block are. */
export interface ThreadInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly control: number;
  /** the worker's number (1..threads-1) */
  readonly index: number;
  /** top of this worker's own stack region (the stack grows down) */
  readonly stackTop: number;
  /** how long an idle worker polls the claim word before it sleeps in Atomics.wait (0: sleep at once) */
  readonly spinMicros: number;
  /** bench-only: where split calls are timed (thread-trace.ts) */
  readonly trace?: SharedArrayBuffer;
}

export type ThreadReply = { readonly kind: 'ready' } | { readonly kind: 'failed'; readonly message: string };

export type GemmExport = (a: number, lda: number, bPacked: number, c: number, ldc: number, m: number, n: number, k: number, flags: number, lo: number, hi: number) => void;

export function callGemm(f: GemmExport, g: GemmCall): void {
  f(g.a, g.lda, g.bPacked, g.c, g.ldc, g.m, g.n, g.k, g.flags, g.lo, g.hi);
}
