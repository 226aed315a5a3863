// The shapes of an ONNX model before its weights have arrived. Exporters write a graph's inputs,
// outputs, value_info (GraphProto fields 11-13) and the model's opset_import (8) after every weight,
// so a plan (and the pipelines it needs) exists only at the last byte of a plain download. Where the
// server answers Range requests, the file's last bytes are fetched beside the main download and
// scanned for the start of those trailing fields (a guess: protobuf cannot be parsed backwards). If
// every graph input has fixed dims, the model's structure is then walked field by field from its
// first byte: bytes already streamed are read from the stream, the rest by small Range requests that
// hop over each weight's data by its length (one per weight larger than a window). The walk is exact;
// the tail scan must agree with it, and at the last byte every byte fetched by Range must equal the
// download's and the whole file's inputs, outputs and opsets the walk's: else the early shapes are
// discarded (the session plans from the whole file as always; pipelines compiled for them are
// unclaimed and dropped) and the outcome says why.
import type { AnyTensor } from '../../../core/tensor.ts';
import { decodeOnnxFields, fieldAt } from './onnx-decoder.ts';
import { tensorFromProto, type TensorProtoMessage } from './tensor-proto.ts';
import { overriddenSize } from '../../graph/free-dimensions.ts';

type Message = Record<string, unknown>;
/** what the early path did: `ok` when its shapes were used and then verified against the whole file */
export interface EarlyOutcome { readonly ok: boolean; readonly why: string }

/** the file's bytes at any offset: `read(start, end)` by an HTTP Range request */
export interface RangeSource { read(start: number, end: number, signal: AbortSignal): Promise<Uint8Array> }

const MODEL_GRAPH = (7 << 3) | 2;
const GRAPH_INITIALIZER = (5 << 3) | 2;
const RAW_DATA = (9 << 3) | 2;
/**
 * bytes asked for per hop, and for the tail (at most an eighth of the file: on a real network these
 * bytes share the download's bandwidth; a graph's inputs, outputs and opsets are usually < 1 KB)
 */
const WINDOW = 4096;
const TAIL = 16 << 10;
/** offsets this close to the stream are waited for; larger reads too (a big Constant node: never fetched twice) */
const AHEAD = 64 << 10;
/** GraphProto fields after the initializers; ModelProto fields after the graph */
const GRAPH_TAIL = new Set([10, 11, 12, 13, 14, 15, 16]);
const MODEL_TAIL = new Set([8, 14, 20, 25]);

/**
 * A range source over fetch: only a 206 for exactly the bytes asked of the same file counts (an
 * ETag or Last-Modified that differs from the main response's means the file changed between requests).
 */
export function fetchRanges(url: string, total: number, headers: Headers): RangeSource {
  const validator = (h: Headers): string | null => h.get('etag') ?? h.get('last-modified');
  const expected = validator(headers);
  return {
    async read(start, end, signal) {
      const r = await fetch(url, { headers: { range: `bytes=${start}-${end - 1}` }, signal });
      const why = r.status !== 206 ? `the server answered a Range request with HTTP ${r.status}`
        : r.headers.get('content-range') !== `bytes ${start}-${end - 1}/${total}` ? `Content-Range '${r.headers.get('content-range')}' for bytes ${start}-${end - 1} of ${total}`
          : expected !== validator(r.headers) ? `the file changed between requests (ETag/Last-Modified ${expected} then ${validator(r.headers)})` : undefined;
      if (why) {
        await r.body?.cancel().catch(() => undefined);
        throw new Error(why);
      }
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.length !== end - start) throw new Error(`a Range request for ${end - start} bytes gave ${bytes.length}`);
      return bytes;
    },
  };
}

/**
 * Where in `tail` (the file's last bytes, starting at file offset `offset`) the graph's trailing
 * fields start: the first offset from which fields parse, in field-number order, as graph inputs (the
 * first), outputs, value_info..., then, from an opset_import on, as ModelProto fields, to the last
 * byte exactly. A guess (weight bytes can parse so too): the walk checks it.
 */
export function scanTail(tail: Uint8Array, offset: number): { graph: Message; model: Message; graphEnd: number } | undefined {
  for (let s = 0; s < tail.length; s++) {
    if (tail[s] !== ((11 << 3) | 2)) continue;
    const found = parseTail(tail, s);
    if (found) return { ...found, graphEnd: offset + found.graphEnd };
  }
  return undefined;
}

function parseTail(tail: Uint8Array, s: number): { graph: Message; model: Message; graphEnd: number } | undefined {
  const graph: Message = {};
  const model: Message = {};
  let graphEnd = -1;
  let last = 0;
  try {
    for (let p = s; p < tail.length;) {
      const [tag, , end] = fieldAt(tail, p);
      const n = tag >>> 3;
      if (graphEnd < 0 && n === 8) [graphEnd, last] = [p, 0];
      if ((tag & 7) !== 2 || end > tail.length || n < last || !(graphEnd < 0 ? GRAPH_TAIL : MODEL_TAIL).has(n)) return undefined;
      decodeOnnxFields(graphEnd < 0 ? 'GraphProto' : 'ModelProto', tail, p, end, graphEnd < 0 ? graph : model, graphEnd < 0 ? 1 : 0);
      [p, last] = [end, n];
    }
  } catch {
    return undefined;
  }
  const named = (list: unknown): boolean => ((list ?? []) as { name?: string }[]).every((v) => !!v.name);
  return graphEnd >= 0 && named(graph.input) && named(graph.output) ? { graph, model, graphEnd } : undefined;
}

/** The stream as the early path sees it: its bytes so far, and a wait for more. */
export interface StreamView {
  bytes(): Uint8Array;
  /** resolves once `end` bytes are in; rejects when the stream ended first */
  until(end: number): Promise<void>;
}

/** Bytes at any offset, from the stream or by Range; remembers what Range gave, to compare at the end. */
class SparseBytes {
  readonly fetched: { start: number; bytes: Uint8Array }[] = [];
  requests = 0;
  /** why the walk must stop (checked before each request) */
  stop: string | undefined;
  readonly built = new WeakMap<TensorProtoMessage, AnyTensor>();
  constructor(private readonly stream: StreamView, private readonly ranges: RangeSource, readonly total: number, private readonly signal: AbortSignal) {}

  async get(start: number, end: number): Promise<Uint8Array> {
    if (end > this.total) throw new Error(`a field ends at byte ${end}, past the file's ${this.total}`);
    const loaded = this.stream.bytes().length;
    const w = end > loaded ? this.fetched.find((f) => f.start <= start && end <= f.start + f.bytes.length) : undefined;
    if (w) return w.bytes.subarray(start - w.start, end - w.start);
    if (end > loaded && (start < loaded + AHEAD || end - start > AHEAD)) await this.stream.until(end);
    if (end <= this.stream.bytes().length) return this.stream.bytes().subarray(start, end);
    return this.fetch(start, Math.min(this.total, Math.max(end, start + WINDOW)));
  }

  /** whether bytes [start, end) are in without a wait or a request */
  has(start: number, end: number): boolean {
    return end <= this.stream.bytes().length || this.fetched.some((f) => f.start <= start && end <= f.start + f.bytes.length);
  }

  async fetch(start: number, end: number): Promise<Uint8Array> {
    if (this.stop) throw new Error(this.stop);
    this.requests++;
    const bytes = await this.ranges.read(start, end, this.signal);
    this.fetched.push({ start, bytes });
    return bytes;
  }

  /** [tag, payload start, end] of the field at `pos` (file offsets) */
  async field(pos: number): Promise<[number, number, number]> {
    const head = await this.get(pos, Math.min(this.total, pos + 16));
    const [tag, start, end] = fieldAt(head, 0);
    return [tag, pos + start, pos + end];
  }

  /** the first byte where what Range gave differs from the whole file, or -1 */
  mismatch(file: Uint8Array): number {
    for (const { start, bytes } of this.fetched) {
      for (let i = 0; i < bytes.length; i++) if (file[start + i] !== bytes[i]) return start + i;
    }
    return -1;
  }
}

export interface EarlyModel {
  /** the ModelProto with every initializer's data replaced by a placeholder of its size */
  readonly message: Message;
  /** the tensors for its initializers (placeholders of zeros, or real where their bytes were at hand) */
  readonly built: WeakMap<TensorProtoMessage, AnyTensor>;
  readonly bytes: SparseBytes;
  readonly tailStart: number;
}

/**
 * The model's structure ahead of its weights, or a string saying why not. Throws on a network or
 * decode error (the caller states it as the reason).
 */
export async function earlyModel(stream: StreamView, ranges: RangeSource, total: number, signal: AbortSignal, fixed?: Readonly<Record<string, number>>): Promise<EarlyModel | string> {
  const src = new SparseBytes(stream, ranges, total, signal);
  const tailStart = Math.max(0, total - Math.min(TAIL, Math.ceil(total / 8)));
  // The tail and the walk start together (the walk's first hops overlap the tail's request); a tail
  // that shows no fixed shapes stops the walk at its next request.
  const scan = src.fetch(tailStart, total).then((tail) => {
    const scanned = scanTail(tail, tailStart);
    // A symbolic dim that freeDimensionOverrides names counts as fixed (the model is planned with it),
    // and so does a symbolic leading one (a batch axis: planned as 1, shape-plan.ts plannableInputs).
    const symbolic = ((scanned?.graph.input ?? []) as { name?: string; type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } } }[])
      .find((v) => !v.type?.tensorType?.shape || v.type.tensorType.shape.dim?.some((d, k) => k > 0 && d.dimValue === undefined && overriddenSize(fixed, d.dimParam) === undefined));
    src.stop = !scanned ? `no graph inputs found in the last ${total - tailStart} bytes` : symbolic ? `input '${symbolic.name}' has no fixed shape (planned at the first run)` : undefined;
    return scanned;
  });
  const walk = walkModel(src, total);
  walk.catch(() => undefined); // awaited below, after the scan
  const scanned = await scan;
  if (!scanned) return src.stop!;
  if (src.stop) return src.stop;
  const { message, graphEnd } = await walk;
  const walked = message.graph as Message | undefined;
  if (!walked) return 'no graph';
  if (graphEnd !== scanned.graphEnd || !sameTail(walked, message, scanned.graph, scanned.model)) {
    return `the tail scan was misled (it put the graph's end at byte ${scanned.graphEnd}, the walk at ${graphEnd})`;
  }
  const built = src.built;
  return { message, built, bytes: src, tailStart };
}

/** The ModelProto field by field from its first byte, the graph's weights' data hopped over. */
async function walkModel(src: SparseBytes, total: number): Promise<{ message: Message; graphEnd: number }> {
  const message: Message = {};
  let graphEnd = -1;
  for (let pos = 0; pos < total;) {
    const [tag, start, end] = await src.field(pos);
    if (tag !== MODEL_GRAPH) decodeOnnxFields('ModelProto', await src.get(pos, end), 0, end - pos, message, 0);
    else {
      message.graph = await walkGraph(src, start, end, src.built);
      graphEnd = end;
    }
    pos = end;
  }
  return { message, graphEnd };
}

async function walkGraph(src: SparseBytes, start: number, end: number, built: EarlyModel['built']): Promise<Message> {
  const graph: Message = {};
  for (let pos = start; pos < end;) {
    const [tag, s, e] = await src.field(pos);
    if (e > end) throw new Error('a field overruns the graph');
    if (tag === GRAPH_INITIALIZER) ((graph.initializer ??= []) as TensorProtoMessage[]).push(await tensorHeader(src, s, e, built));
    else decodeOnnxFields('GraphProto', await src.get(pos, e), 0, e - pos, graph, 1);
    pos = e;
  }
  return graph;
}

/**
 * A TensorProto's fields without its raw data, unless that is at hand or decides shapes (int32/int64:
 * Reshape's shape, Slice's starts...); the tensor built is then a placeholder of zeros of its size.
 */
async function tensorHeader(src: SparseBytes, start: number, end: number, built: EarlyModel['built']): Promise<TensorProtoMessage> {
  const t: TensorProtoMessage = {};
  let placeholder = -1;
  for (let pos = start; pos < end;) {
    const [tag, s, e] = await src.field(pos);
    const shapes = t.dataType === undefined || t.dataType === 6 || t.dataType === 7;
    if (tag === RAW_DATA && !shapes && !src.has(pos, e)) placeholder = e - s;
    else decodeOnnxFields('TensorProto', await src.get(pos, e), 0, e - pos, t as Message, 2);
    pos = e;
  }
  if (t.dataLocation === 1) throw new Error(`tensor '${t.name ?? ''}' is in external data`);
  built.set(t, tensorFromProto(placeholder >= 0 ? { ...t, rawData: new Uint8Array(placeholder) } : t));
  return t;
}

/** whether the graph inputs, outputs, value_info and the opsets of two decoded models are the same */
export function sameTail(graph: Message, model: Message, otherGraph: Message, otherModel: Message): boolean {
  const key = (g: Message, m: Message): string => JSON.stringify([g.input, g.output, g.valueInfo, m.opsetImport]);
  return key(graph, model) === key(otherGraph, otherModel);
}
