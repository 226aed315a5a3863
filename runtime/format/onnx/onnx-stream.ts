// Reads an ONNX ModelProto while it downloads. Exporters (torch.onnx, tf2onnx, onnx.save) write
// fields in field-number order, so a GraphProto arrives as: nodes (1), initializers (5), then its
// inputs, outputs and value_info (11-13), and the model's opset_import (8) after the graph (7). The
// reader decodes each field of the model and of its graph as soon as that field's bytes are complete
// (the decoder's own loop, field by field: exactly what decoding the whole file gives), tells the
// session as each weight completes (an initializer, or a Constant node's value as paddle2onnx writes
// them: built once, the same tensor the model will hold, so a backend can upload it during the
// download), and hands the decoded message to the reader at the end. Fields in any order are
// followed (a second graph field replaces the first, as in the decoder). Bytes it cannot follow (a
// decode error, a field overrunning the graph, a weight the reader would refuse, a stream cut inside
// a field, no graph) stop it: the whole buffer is then read as before, so errors are exactly those of
// the whole-buffer path, and the outcome says where it stopped.
import type { AnyTensor } from '../../../core/tensor.ts';
import type { Model } from '../../graph/ir.ts';
import { decodeOnnxFields, fieldAt } from './onnx-decoder.ts';
import type { EarlyModel, EarlyOutcome } from './onnx-early.ts';
import { tensorFromProto, type TensorProtoMessage } from './tensor-proto.ts';

export interface OnnxStreamEvents {
  /**
   * a weight whose bytes are complete, as the model will hold it: an initializer stored inline, or
   * a Constant node's value (paddle2onnx writes every weight so; lifted to an initializer by a pass)
   */
  onInitializer?(name: string, tensor: AnyTensor): void;
  /**
   * the model's structure with every graph input's shape fixed, before its weights have arrived
   * (onnx-early.ts): weights not yet in are zeros; for planning and compiling ahead, never for answers
   */
  onShapes?(modelSoFar: () => Model): void;
}

/** `early`: whether the shapes came before the last byte (onnx-early.ts) and why (absent: not tried) */
export type OnnxStreamOutcome = ({ readonly streamed: true } | { readonly streamed: false; readonly reason: string }) & { readonly early?: EarlyOutcome };

/**
 * how the early path reads ahead of the stream (the download's URL and headers, for Range requests),
 * or why it cannot. Its code (onnx-early.ts) is a chunk of its own, loaded only then: bytes in memory
 * and servers without Range never download it (docs/decisions.md "free-dims").
 */
export type EarlyOptions = {
  readonly url: string;
  readonly headers: Headers;
  readonly toModel: (message: Message, built: EarlyModel['built']) => Model;
  /** freeDimensionOverrides: a symbolic input dim named here counts as fixed (onnx-early.ts) */
  readonly fixed?: Readonly<Record<string, number>> | undefined;
} | string;

type Message = Record<string, unknown>;
/** tags (field number << 3 | wire type 2, length-delimited) of ModelProto.graph, GraphProto.node and .initializer */
const MODEL_GRAPH = (7 << 3) | 2;
const GRAPH_NODE = (1 << 3) | 2;
const GRAPH_INITIALIZER = (5 << 3) | 2;

interface NodeMessage { readonly opType?: string; readonly domain?: string; readonly output?: readonly string[]; readonly attribute?: readonly { name?: string; t?: TensorProtoMessage }[] }

export class OnnxStreamReader {
  private buf: Uint8Array;
  private loaded = 0;
  /** the next field to read (of the model, or of the graph while `graphEnd` >= 0) */
  private pos = 0;
  private graphEnd = -1;
  private graph: Message | undefined;
  private readonly model: Message = {};
  private stopped: string | undefined;
  /** the tensors built during the download, by the message they came from (onnx-reader.ts uses them) */
  readonly built = new WeakMap<TensorProtoMessage, AnyTensor>();

  private early: EarlyOutcome | undefined;
  /** the early path is reading ahead (or was): the outcome says how it ended */
  private readingAhead = false;
  private earlyShapes: EarlyModel | undefined;
  private earlyLib: typeof import('./onnx-early.ts') | undefined;
  private readonly waiters: { end: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly abort = new AbortController();

  constructor(total: number, private readonly events?: OnnxStreamEvents, early?: EarlyOptions) {
    this.buf = new Uint8Array(total || 1 << 20);
    if (typeof early === 'string' || (early && !total)) this.early = { ok: false, why: typeof early === 'string' ? early : 'the server gave no Content-Length' };
    else if (early) this.startEarly(early, total);
  }

  private startEarly(early: Exclude<EarlyOptions, string>, total: number): void {
    this.readingAhead = true;
    const view = {
      bytes: () => this.bytes(),
      until: (end: number) => (end <= this.loaded ? Promise.resolve() : new Promise<void>((resolve, reject) => void this.waiters.push({ end, resolve, reject }))),
    };
    import('./onnx-early.ts').then((lib) => {
      this.earlyLib = lib;
      return lib.earlyModel(view, lib.fetchRanges(early.url, total, early.headers), total, this.abort.signal, early.fixed);
    }).then((m) => {
      if (this.early) return; // the last byte came first
      if (typeof m === 'string') return void (this.early = { ok: false, why: m });
      const model = early.toModel(m.message, m.built);
      this.earlyShapes = m;
      this.events?.onShapes?.(() => model);
    }).catch((e: unknown) => void (this.early ??= { ok: false, why: (e as Error).message }));
  }

  write(chunk: Uint8Array): void {
    if (this.loaded + chunk.length > this.buf.length) {
      // Decoded views keep the old buffer alive; its bytes never change, so they stay right.
      const grown = new Uint8Array(2 * (this.loaded + chunk.length));
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf.set(chunk, this.loaded);
    this.loaded += chunk.length;
    for (const w of this.waiters.filter((w) => w.end <= this.loaded)) w.resolve();
    try {
      if (this.stopped === undefined) this.advance();
    } catch (e) {
      this.stopped = `byte ${this.pos}: ${(e as Error).message}`;
    }
  }

  /** every byte written so far */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.loaded);
  }

  /** The decoded ModelProto when the stream was followed to its end, else why not (read the bytes whole then). */
  end(): { message?: Message; outcome: OnnxStreamOutcome } {
    this.stopped ??= this.graphEnd >= 0 || this.pos < this.loaded || !this.graph ? `byte ${this.pos}: cut, corrupt or no graph` : undefined;
    const outcome = this.stopped === undefined ? { streamed: true as const } : { streamed: false as const, reason: this.stopped };
    if (this.readingAhead) this.early ??= this.verifyEarly();
    this.abort.abort();
    for (const w of this.waiters.splice(0)) w.reject(new Error('the download ended'));
    const early = this.early ? { early: this.early } : {};
    return this.stopped === undefined ? { message: this.model, outcome: { ...outcome, ...early } } : { outcome: { ...outcome, ...early } };
  }

  /**
   * The early shapes checked against the whole file: every byte Range gave must be the download's,
   * and the inputs, outputs, value_info and opsets those the stream decoded. Else they are discarded:
   * the session plans from the whole file as always, and pipelines compiled for them go unclaimed.
   */
  private verifyEarly(): EarlyOutcome {
    const m = this.earlyShapes;
    if (!m) return { ok: false, why: 'the shapes were not known before the last byte' };
    const at = m.bytes.mismatch(this.bytes());
    if (at >= 0) return { ok: false, why: `discarded: byte ${at} from a Range request differs from the download (the file changed between requests)` };
    const graph = m.message.graph as Message;
    if (this.stopped !== undefined) return { ok: false, why: 'discarded: the stream could not be followed to check them' };
    if (!this.earlyLib!.sameTail(this.graph!, this.model, graph, m.message)) return { ok: false, why: 'discarded: the whole file declares other inputs, outputs or opsets' };
    return { ok: true, why: `from ${m.bytes.requests} Range requests (the last ${m.bytes.total - m.tailStart} bytes, then the weights' headers); verified at the last byte` };
  }

  private advance(): void {
    const bytes = this.bytes();
    for (;;) {
      if (this.pos === this.graphEnd) this.graphEnd = -1; // back in the model's fields
      let tag: number, start: number, end: number;
      try {
        [tag, start, end] = fieldAt(bytes, this.pos);
      } catch {
        return; // not complete yet (or corrupt: then the stream ends inside a field, and the bytes are read whole)
      }
      const graph = this.graphEnd >= 0 ? this.graph! : undefined;
      if (!graph && tag === MODEL_GRAPH) {
        this.model.graph = this.graph = {}; // a second graph field replaces the first, as in the decoder
        this.graphEnd = end;
        this.pos = start;
        continue;
      }
      if (graph && end > this.graphEnd) throw new Error('overruns the graph');
      if (end > this.loaded) return;
      decodeOnnxFields(graph ? 'GraphProto' : 'ModelProto', bytes, this.pos, end, graph ?? this.model, graph ? 1 : 0);
      this.pos = end;
      if (graph && tag === GRAPH_NODE) {
        const node = (graph.node as NodeMessage[]).at(-1)!; // decoded from onnx-schema.ts's NodeProto
        if (node.opType === 'Constant' && !node.domain) this.build(node.attribute?.find((a) => a.name === 'value')?.t, node.output?.[0]);
      } else if (graph && tag === GRAPH_INITIALIZER) {
        const t = (graph.initializer as TensorProtoMessage[]).at(-1)!;
        this.build(t, t.name);
      }
    }
  }

  /**
   * Builds a weight as the reader will. One the reader would refuse stops the stream reader (the
   * whole-buffer read then gives that error); one in external data is left to the reader.
   */
  private build(t: TensorProtoMessage | undefined, name: string | undefined): void {
    if (!t || !name || t.dataLocation === 1) return;
    const tensor = tensorFromProto(t);
    this.built.set(t, tensor);
    this.events?.onInitializer?.(name, tensor);
  }
}
