// The wasm backend: steps whose op has a wasm kernel (kernels/*/wasm.ts) run in WebAssembly over
// one memory; the others run their js kernel. Memory per prepared plan: the steps' persistent data
// (weights packed once), copies of constants the steps read, then one arena where every tensor a
// wasm step touches lives, placed by lifetime (runtime/plan/arena-plan.ts): a run allocates nothing,
// two consecutive wasm steps pass tensors without a copy, and outputs are copied out once. Carried
// values (plan.carried: generate()'s KV cache) have bytes of their own outside the arena, kept
// between runs: a run that leaves the input out reads what the previous run wrote into the output.
import type { AnyTensor } from '../../../core/tensor.ts';
import { Tensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import type { TensorMeta } from '../../../kernels/contract.ts';
import type { WasmStep, WasmStepAddresses } from '../../../kernels/wasm/contract.ts';
import { wasmKernelFor } from '../../../kernels/wasm/kernels.ts';
import { ARENA_DTYPE_BYTES } from '../../../kernels/wasm/typed.ts';
import { ARENA_ALIGN, planArena, type ArenaBlock } from '../../plan/arena-plan.ts';
import type { ExecutionPlan } from '../../plan/execution-plan.ts';
import type { Backend, Placement, PreparedPlan, StepPlacement } from '../backend.ts';
import { runStepOnCpu } from '../js/run-step.ts';
import { CHAIN_WORDS } from '../../../kernels/wasm/tail.ts';
import { chainProgram, findElementwiseChains, type ElementwiseChain } from './elementwise-chains.ts';
import { loadKilnWasm, type KilnWasm, type LoadWasmOptions, type WasmSource } from './wasm-module.ts';
import type { ThreadSpawner } from './thread-pool.ts';
import { browserThreadSpawner } from './thread-spawner-browser.ts';
import { PlanRegions } from './plan-regions.ts';
import { wasmStepTimer } from './step-timer.ts';
import { PageToucher } from './first-touch.ts';

const PAGE = 65536;
const align = (n: number): number => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;
const elements = (m: TensorMeta): number => m.dims.reduce((a, b) => a * b, 1);
const bytesOf = (m: TensorMeta): number => elements(m) * ARENA_DTYPE_BYTES[m.dtype]!;
type MemoryArray = Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array;
interface MemoryArrayClass {
  new (length: number): MemoryArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): MemoryArray;
}
/** The typed array class a memory dtype is read and written through. */
function memoryClass(dtype: string): MemoryArrayClass {
  switch (dtype) {
    case 'float32': return Float32Array;
    case 'int32': return Int32Array;
    case 'int64': return BigInt64Array;
    case 'int8': return Int8Array;
    case 'uint8': case 'bool': return Uint8Array;
    case 'float16': return Uint16Array;
    default: return fail('INTERNAL', `wasm backend: ${dtype} tensors do not go into memory`);
  }
}
/** A view of n elements of a memory dtype at byte offset off. */
const memoryView = (buffer: ArrayBufferLike, dtype: string, off: number, n: number): MemoryArray => new (memoryClass(dtype))(buffer, off, n);
/** A fresh array of n elements of a memory dtype (memoryView's class). */
const freshArray = (dtype: string, n: number): MemoryArray => new (memoryClass(dtype))(n);

/** What a prepared plan's last run moved (Placement diagnostics), and whether its carried values are whole. */
interface RunCounts {
  last: number;
  hostBytes: number;
  /** bytes the last run copied inside memory from carried outputs to their inputs (pairs that do not share bytes) */
  carriedCopyBytes: number;
  carriedReady: boolean;
}

let defaultSource: WasmSource | undefined;

/** Node's entry sets where the built modules are read from (browsers fetch them beside the bundle). */
export function setDefaultWasmSource(source: WasmSource): void {
  defaultSource = source;
}

/** The default numThreads never exceeds this (onnxruntime-web caps its default at 4 too). */
export const DEFAULT_MAX_WASM_THREADS = 4;
let defaultSpawner: ThreadSpawner | undefined;
let machineThreads: () => number = () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1);

/** Node's entry sets how pool workers start and what the machine offers (os.availableParallelism). */
export function setDefaultThreading(spawner: ThreadSpawner, parallelism?: () => number): void {
  defaultSpawner = spawner;
  if (parallelism) machineThreads = parallelism;
}

/** numThreads when a session does not say: the machine's cores, at most DEFAULT_MAX_WASM_THREADS. */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(DEFAULT_MAX_WASM_THREADS, Math.floor(machineThreads())));
}

/** A chain member that is not the last: the last one's pass computes it. */
const NO_RUN: WasmStep = { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
const NO_WORDS = new Int32Array(0);

/** Elements per unit of kiln_chain_part_f32 (kernels/wasm/src/eltwise-chain.c CHAIN_BLOCK). */
const CHAIN_BLOCK = 2048;
/**
 * A chain's work per element and link in the pool's units (multiply-adds at ~15 GMAC/s): PaddleOCR v4
 * rec's conv tails (Mul, Add, HardSwish, Mul, Add over 15-61k values) took ~0.5 ns per element and link.
 */
const CHAIN_LINK_COST = 8;

/** One pass over the chain's elements, split across the pool (by its timed choice) when it is long. */
function chainStep(k: KilnWasm, c: ElementwiseChain, program: number, at: ReadonlyMap<number, number>): WasmStep {
  const [x, y] = [at.get(c.input)!, at.get(c.output)!];
  k.fn('kiln_chain_part_f32'); // a stale module fails here, at session start
  const call = { args: [program, c.links.length, x, y, c.n], floats: 0, rows: Math.ceil(c.n / CHAIN_BLOCK), scratchArg: 0, scratchStride: 0, work: c.n * c.links.length * CHAIN_LINK_COST };
  return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => k.parallelRows('kiln_chain_part_f32', call) };
}

/** A carried input/output pair: `shared` when the output takes the input's bytes (the writer writes in place). */
interface CarriedLayout {
  readonly input: number;
  readonly output: number;
  readonly shared: boolean;
  readonly bytes: number;
}

interface Layout {
  /** byte offset of every value that lives in memory */
  readonly at: ReadonlyMap<number, number>;
  readonly scratch: readonly number[];
  readonly persistent: readonly (readonly number[])[];
  /** each elementwise chain's program */
  readonly programs: readonly number[];
  readonly end: number;
  /** each wasm step's offsets, fixed for the session: a run allocates none */
  readonly addresses: readonly (WasmStepAddresses | undefined)[];
  readonly carried: readonly CarriedLayout[];
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  /** the memory the prepared plans hold, a region each (plan-regions.ts) */
  private readonly regions: PlanRegions;

  private constructor(private readonly k: KilnWasm) {
    this.regions = new PlanRegions(align(k.heapBase));
  }


  static async create(options: LoadWasmOptions = {}): Promise<WasmBackend> {
    // Browsers: module Workers (started only where the page is cross-origin isolated). Node's entry sets worker_threads.
    const spawner = options.spawner ?? defaultSpawner ?? (typeof Worker === 'function' ? browserThreadSpawner() : undefined);
    return new WasmBackend(await loadKilnWasm({ ...options, source: options.source ?? defaultSource, numThreads: options.numThreads ?? defaultWasmThreads(), ...(spawner ? { spawner } : {}) }));
  }

  /** Threads the GEMM runs on, the calling one included. */
  get threads(): number {
    return this.k.threads;
  }

  get adapterInfo(): string {
    const threads = this.k.threads === 1 ? `1 thread${this.k.threadsNote !== undefined ? `: ${this.k.threadsNote}` : ''}` : `${this.k.threads} threads`;
    return `wasm (${this.k.build === 'relaxed' ? 'relaxed-SIMD' : 'SIMD128'}, ${threads})`;
  }

  async prepare(plan: ExecutionPlan): Promise<PreparedPlan> {
    const k = this.k;
    // 1. Which steps run in wasm.
    const steps: (WasmStep | undefined)[] = plan.steps.map((step) => {
      const lower = wasmKernelFor(step.op);
      if (!lower || step.outputs.some((id) => id < 0)) return undefined;
      const metas = step.inputs.map((id) => (id === undefined ? undefined : plan.values[id]!.meta));
      const outs = step.outputs.map((id) => plan.values[id]!.meta);
      const constants = step.inputs.map((id) => (id === undefined ? undefined : plan.values[id]!.constValue));
      return lower(metas, outs, { ...step.ctx, constants });
    });

    // Chains of elementwise steps run as one pass at their last step; their intermediates never
    // exist in memory (elementwise-chains.ts).
    const chains = findElementwiseChains(plan, steps);
    /** the instructions a chain's program starts with: its kernel's own activation when the chain is that kernel's tail */
    const prologueOf = (c: ElementwiseChain): Int32Array => {
      const p = tails.get(c);
      return p === undefined ? NO_WORDS : steps[p]!.tail!.prologue;
    };
    const fusedValues = new Set<number>();
    const fusedInto = new Map<number, string>();
    for (const c of chains) {
      const last = plan.steps[c.steps[c.steps.length - 1]!]!.node.name;
      for (const i of c.steps.slice(0, -1)) {
        fusedValues.add(plan.steps[i]!.outputs[0]!);
        fusedInto.set(i, last);
      }
    }

    // 2. Values in memory: what wasm steps read at run time and write. Constants among them are
    //    copied once; the rest share the arena by lifetime, with each step's scratch.
    const inMemory = new Set<number>();
    const constants: number[] = [];
    plan.steps.forEach((step, i) => {
      const w = steps[i];
      if (!w) return;
      for (const slot of w.reads) {
        const id = step.inputs[slot];
        if (id === undefined || inMemory.has(id) || fusedValues.has(id)) continue;
        const v = plan.values[id]!;
        if (ARENA_DTYPE_BYTES[v.meta.dtype] === undefined) fail('INTERNAL', `${step.node.opType} node '${step.node.name}': wasm reads ${v.meta.dtype} '${v.name}'`);
        inMemory.add(id);
        if (v.kind === 'const') constants.push(id);
      }
      for (const id of step.outputs) if (!fusedValues.has(id)) inMemory.add(id);
    });
    const carried = this.carriedLayout(plan, steps);
    const carriedIds = new Set(carried.flatMap((c) => [c.input, c.output]));
    // A chain that reads a kernel's output runs as that kernel's tail when the kernel offers one
    // (kernels/wasm/tail.ts): on each piece of the output while it is in cache. Its operands must
    // exist when the kernel runs, and its output is written from then on.
    const tails = new Map<ElementwiseChain, number>();
    const tailed = new Set<number>();
    for (const c of chains) {
      const p = plan.values[c.input]!.producer;
      if (p < 0 || !steps[p]?.tail || plan.steps[p]!.outputs[0] !== c.input || tailed.has(p) || carriedIds.has(c.output)) continue;
      if (!c.links.every((l) => l.operand === undefined || l.operand === c.input || plan.values[l.operand]!.producer < p)) continue;
      tails.set(c, p);
      tailed.add(p);
    }
    const writtenFrom = new Map([...tails].map(([c, p]) => [c.output, p]));
    for (const [c, p] of tails) for (const i of c.steps) fusedInto.set(i, plan.steps[p]!.node.name);
    for (const id of carriedIds) inMemory.add(id);
    // Views (Reshape...): the output shares the bytes of the value it views (its root, through
    // chains of views), which then lives until the last use of any of its views.
    const viewRoot = new Map<number, number>();
    const lastUse = new Map<number, number>();
    plan.steps.forEach((step, i) => {
      const slot = steps[i]?.viewOf;
      if (slot === undefined) return;
      const src = step.inputs[slot]!;
      const root = viewRoot.get(src) ?? src;
      const out = step.outputs[0]!;
      viewRoot.set(out, root);
      lastUse.set(root, Math.max(lastUse.get(root) ?? plan.values[root]!.lastUse, plan.values[out]!.lastUse));
    });
    // A chain reads its input and operands when its last step runs: they live until then.
    for (const c of chains) {
      const end = c.steps[c.steps.length - 1]!;
      for (const id of [c.input, ...c.links.flatMap((l) => (l.operand === undefined ? [] : [l.operand]))]) {
        const root = viewRoot.get(id) ?? id;
        lastUse.set(root, Math.max(lastUse.get(root) ?? plan.values[root]!.lastUse, end));
      }
    }
    const blocks: ArenaBlock[] = [];
    const owners: ({ kind: 'value'; id: number } | { kind: 'scratch'; step: number })[] = [];
    for (const id of inMemory) {
      const v = plan.values[id]!;
      if (v.kind === 'const' || viewRoot.has(id) || carriedIds.has(id)) continue;
      // A value lives from the step that writes it, read or not: an output nobody fetches and no
      // step reads (a present beside the logits) has lastUse -1, yet its producer still writes it.
      const first = writtenFrom.get(id) ?? v.producer;
      blocks.push({ size: bytesOf(v.meta), first, last: Math.max(first, v.producer, lastUse.get(id) ?? v.lastUse) });
      owners.push({ kind: 'value', id });
    }
    steps.forEach((w, i) => {
      if (!w || w.scratchBytes === 0) return;
      blocks.push({ size: w.scratchBytes, first: i, last: i });
      owners.push({ kind: 'scratch', step: i });
    });
    const arena = planArena(blocks);

    // 3. Layout in a region of its own: persistent regions, constant copies, the arena. Laid out
    //    once from 0 for its size, then again at the region's address.
    const place = (base: number): Layout => {
      let cursor = base;
      const take = (bytes: number): number => {
        const at = cursor;
        cursor += align(bytes);
        return at;
      };
      const persistent = steps.map((w) => (w ? w.persistentBytes.map(take) : []));
      const at = new Map<number, number>();
      for (const id of constants) at.set(id, take(bytesOf(plan.values[id]!.meta)));
      const programs = chains.map((c) => take((prologueOf(c).length + c.links.length * CHAIN_WORDS) * 4));
      for (const c of carried) {
        at.set(c.input, take(c.bytes));
        at.set(c.output, c.shared ? at.get(c.input)! : take(c.bytes));
      }
      const arenaBase = take(arena.size);
      const scratch = plan.steps.map(() => -1);
      owners.forEach((o, b) => {
        if (o.kind === 'value') at.set(o.id, arenaBase + arena.offsets[b]!);
        else scratch[o.step] = arenaBase + arena.offsets[b]!;
      });
      for (const [view, root] of viewRoot) at.set(view, at.get(root)!);
      const addresses = plan.steps.map((step, i): WasmStepAddresses | undefined =>
        steps[i]
          ? {
              inputs: step.inputs.map((id) => (id === undefined ? -1 : at.get(id) ?? -1)),
              outputs: step.outputs.map((id) => at.get(id) ?? -1), // -1: a chain's intermediate
              scratch: scratch[i]!,
              persistent: persistent[i]!,
            }
          : undefined,
      );
      return { at, scratch, persistent, programs, end: cursor, addresses, carried };
    };
    const bytes = place(0).end;
    const base = this.regions.take(bytes);
    const layout = place(base);
    const { at, persistent, programs } = layout;

    // 4. Fill what is fixed for the session: constant copies, then each step's packed data
    //    (constants it consumes are staged above the layout, one step at a time).
    this.ensureMemory(layout.end);
    for (const id of constants) this.write(at.get(id)!, plan.values[id]!.constValue!);
    steps.forEach((w, i) => {
      if (!w?.prepare) return;
      let stageTop = this.regions.top; // above every plan's region: this one may sit in a gap below others
      w.prepare(k, {
        persistent: persistent[i]!,
        stage: (t) => {
          const off = stageTop;
          stageTop += align(t.size * (ARENA_DTYPE_BYTES[t.type] ?? 4));
          this.ensureMemory(stageTop);
          this.write(off, t);
          return off;
        },
      });
    });

    // The chains' programs (operand offsets are fixed now); their members run nothing, the last one the chain.
    const running: (WasmStep | undefined)[] = [...steps];
    chains.forEach((c, j) => {
      const pre = prologueOf(c);
      const words = new Int32Array(k.memory.buffer, programs[j]!, pre.length + c.links.length * CHAIN_WORDS);
      words.set(pre);
      words.set(chainProgram(c, (id) => at.get(id)!), pre.length);
      for (const i of c.steps) running[i] = NO_RUN;
      const p = tails.get(c);
      if (p === undefined) running[c.steps[c.steps.length - 1]!] = chainStep(k, c, programs[j]!, at);
      else running[p] = steps[p]!.tail!.withTail({ program: programs[j]!, pre: pre.length / CHAIN_WORDS, count: words.length / CHAIN_WORDS, out: at.get(c.output)! });
    });

    const placementSteps: StepPlacement[] = plan.steps.map((s, i) => {
      const into = fusedInto.get(i);
      return { node: s.node.name, opType: s.node.opType, device: 'cpu', reason: 'backend', implementation: steps[i] ? 'wasm' : 'js', ...(into !== undefined ? { fusedInto: into } : {}) };
    });
    const copies: RunCounts = { last: 0, hostBytes: 0, carriedCopyBytes: 0, carriedReady: false };
    const memory = k.memory;
    const regions = this.regions;
    const placement: Placement = {
      gpu: 0, cpu: plan.steps.length, steps: placementSteps, threads: this.k.threads,
      get arenaCopies() {
        return copies.last;
      },
      get hostBytes() {
        return copies.hostBytes;
      },
      get carriedCopyBytes() {
        return copies.carriedCopyBytes;
      },
      carriedShared: layout.carried.filter((c) => c.shared).map((c) => plan.values[c.input]!.name),
      get memoryBytes() {
        return memory.buffer.byteLength;
      },
      get planBytes() {
        return regions.held;
      },
    };
    return {
      placement,
      run: async (feeds, _timing, io) => this.execute(plan, running, layout, feeds, copies, io?.into),
      release: () => this.regions.give(base, layout.end),
    };
  }

  /**
   * Which carried pairs (plan.carried) share bytes: the output's writer is a wasm step that may write
   * that output over the input (WasmStep.writesOver[j] for the output's index j), reads the input at
   * that slot only, and is the input's only reader, so nothing reads the old value after the write.
   * Other pairs get two regions, the output copied into the input's when a run leaves the input out.
   */
  private carriedLayout(plan: ExecutionPlan, steps: readonly (WasmStep | undefined)[]): CarriedLayout[] {
    return (plan.carried ?? []).map(({ input, output }) => {
      const [i, o] = [plan.values[input]!, plan.values[output]!];
      if (i.kind !== 'input' || o.kind !== 'intermediate' || i.meta.dtype !== o.meta.dtype || elements(i.meta) !== elements(o.meta) || ARENA_DTYPE_BYTES[i.meta.dtype] === undefined) {
        fail('INTERNAL', `wasm backend: '${i.name}' cannot carry '${o.name}' between runs (${i.meta.dtype} [${i.meta.dims.join(', ')}] vs ${o.meta.dtype} [${o.meta.dims.join(', ')}])`);
      }
      const writer = plan.steps[o.producer]!;
      const slot = steps[o.producer]?.writesOver?.[writer.outputs.indexOf(output)];
      const readers = plan.steps.filter((s) => s.inputs.includes(input));
      const onlySlot = writer.inputs.filter((id) => id === input).length === 1;
      const shared = slot !== undefined && writer.inputs[slot] === input && onlySlot && readers.length === 1 && readers[0] === writer;
      return { input, output, shared, bytes: bytesOf(i.meta) };
    });
  }

  /** Runs the steps; `copies` gets what moved between memory and the host (Placement.arenaCopies, hostBytes). */
  private execute(plan: ExecutionPlan, steps: readonly (WasmStep | undefined)[], layout: Layout, feeds: ReadonlyMap<number, AnyTensor>, copies: RunCounts, into?: ReadonlyMap<number, AnyTensor>): AnyTensor[] {
    let copied = 0;
    let hostBytes = 0;
    let carriedCopyBytes = 0;
    const host = new Map<number, AnyTensor>();
    for (const c of layout.carried) {
      if (feeds.has(c.input)) continue;
      if (!copies.carriedReady) fail('INPUT_MISMATCH', `input '${plan.values[c.input]!.name}' was left out, but no earlier run of this plan wrote '${plan.values[c.output]!.name}' (or the last one failed)`);
      if (c.shared) continue;
      // an output in bytes of its own becomes the next input here, inside the memory
      new Uint8Array(this.k.memory.buffer).copyWithin(layout.at.get(c.input)!, layout.at.get(c.output)!, layout.at.get(c.output)! + c.bytes);
      carriedCopyBytes += c.bytes;
    }
    copies.carriedCopyBytes = carriedCopyBytes;
    copies.carriedReady = false; // a run that fails midway leaves the carried values half written
    for (const [id, t] of feeds) {
      const off = layout.at.get(id);
      if (off !== undefined) {
        this.write(off, t);
        hostBytes += t.size * (ARENA_DTYPE_BYTES[t.type] ?? 0);
      } else host.set(id, t);
    }
    const read = (id: number): AnyTensor => {
      const v = plan.values[id]!;
      const known = v.constValue ?? host.get(id);
      if (known) return known;
      const off = layout.at.get(id) ?? fail('INTERNAL', `value '${v.name}' read before it was computed`);
      const copy = new Tensor(v.meta.dtype, memoryView(this.k.memory.buffer, v.meta.dtype, off, elements(v.meta)).slice(), v.meta.dims);
      host.set(id, copy);
      copied++;
      hostBytes += bytesOf(v.meta);
      return copy;
    };
    // With a pool, the outputs' arrays are made now and their pages touched while split calls run on the
    // workers (first-touch.ts); a pre-allocated output, a constant or one a js step makes needs none.
    const fresh = new Map<number, MemoryArray>();
    if (this.k.threads > 1) {
      plan.outputIds.forEach((id, i) => {
        const v = plan.values[id]!;
        if (into?.has(i) || v.constValue || !layout.at.has(id) || !steps[v.producer] || fresh.has(id)) return;
        fresh.set(id, freshArray(v.meta.dtype, elements(v.meta)));
      });
      if (fresh.size > 0) this.k.touchWhileSplit(new PageToucher([...fresh.values()]));
    }
    try {
      const timer = wasmStepTimer();
      plan.steps.forEach((step, i) => {
        const t0 = timer ? performance.now() : 0;
        const w = steps[i];
        if (w) {
          w.run(this.k, layout.addresses[i]!);
          for (const id of step.outputs) host.delete(id); // a stale host copy from an earlier run
          timer?.(i, performance.now() - t0);
          return;
        }
        const outs = runStepOnCpu(plan, step, read);
        step.outputs.forEach((id, j) => {
          if (id < 0) return;
          host.set(id, outs[j]!);
          const off = layout.at.get(id);
          if (off !== undefined) {
            this.write(off, outs[j]!);
            copied++;
            hostBytes += bytesOf(plan.values[id]!.meta);
          }
        });
        timer?.(i, performance.now() - t0);
      });
    } finally {
      if (fresh.size > 0) this.k.touchWhileSplit(undefined);
    }
    copies.last = copied; // the outputs' copies below are every run's, whatever ran where
    // A pre-allocated output is filled straight from memory: no array of our own (whose fresh pages
    // cost more than the copy), no second copy. One the js steps made is the session's to copy.
    const readInto = (id: number, dest: AnyTensor): AnyTensor => {
      const v = plan.values[id]!;
      const off = layout.at.get(id);
      if (off === undefined || v.constValue || host.has(id)) return read(id);
      const view = memoryView(this.k.memory.buffer, v.meta.dtype, off, elements(v.meta));
      if (dest.data.constructor !== view.constructor) return read(id);
      (dest.data as Float32Array).set(view as Float32Array); // the same typed array class (checked just above)
      hostBytes += bytesOf(v.meta);
      return new Tensor(v.meta.dtype, dest.data, v.meta.dims);
    };
    const outputs = plan.outputIds.map((id, i) => {
      const dest = into?.get(i);
      if (dest) return readInto(id, dest);
      const mine = fresh.get(id);
      if (!mine || host.has(id)) return read(id);
      const v = plan.values[id]!;
      (mine as Float32Array).set(memoryView(this.k.memory.buffer, v.meta.dtype, layout.at.get(id)!, mine.length) as Float32Array); // both of the dtype's class (freshArray, memoryView)
      const t = new Tensor(v.meta.dtype, mine, v.meta.dims);
      host.set(id, t); // an output listed twice is one tensor, as read() makes it
      hostBytes += bytesOf(v.meta);
      return t;
    });
    copies.hostBytes = hostBytes;
    copies.carriedReady = layout.carried.length > 0;
    return outputs;
  }

  private write(off: number, t: AnyTensor): void {
    const view = memoryView(this.k.memory.buffer, t.type, off, t.size);
    if (view instanceof BigInt64Array) view.set(t.data as BigInt64Array); // memoryView checked the type
    else view.set(t.data as Float32Array);
  }

  private ensureMemory(bytes: number): void {
    const have = this.k.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.k.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      fail('DEVICE_LIMIT', `wasm backend: cannot grow its memory to ${bytes} bytes: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  release(): void {
    void this.k.release(); // the workers are told to exit at once; terminating them finishes in the background
  }
}
