// Reads an ONNX ModelProto while it downloads. Exporters (torch.onnx, tf2onnx, onnx.save) write
// fields in field-number order, so a GraphProto arrives as: nodes (1), initializers (5), then its
// inputs, outputs and value_info (11-13), and the model's opset_import (8) after the graph (7). The
// reader decodes each field of the model and of its graph as soon as that field's bytes are complete
// (the decoder's own loop, field by field: exactly what decoding the whole file gives), tells the
// session as each node completes and as each weight does (an initializer, or a Constant node's value
// as paddle2onnx writes them: built once, the same tensor the model will hold, so a backend can upload
// it during the download), and hands the decoded message to the reader at the end. Anything it does
// not follow (a graph field twice, a group, a decode error, a stream cut inside a field) stops it: the
// whole buffer is then read as before, so errors are exactly those of the whole-buffer path, and the
// outcome says why.
import type { AnyTensor } from '../../../core/tensor.ts';
import { decodeOnnxFields } from './onnx-decoder.ts';
import { tensorFromProto, type TensorProtoMessage } from './tensor-proto.ts';

/** A node as the stream gives it (fields present only when on the wire). */
export interface StreamedNode { readonly opType?: string; readonly domain?: string; readonly name?: string; readonly output?: readonly string[] }

export interface OnnxStreamEvents {
  /** a node whose bytes are complete (exporters write every node before the weights) */
  onNode?(node: StreamedNode): void;
  /**
   * a weight whose bytes are complete, as the model will hold it: an initializer stored inline, or
   * a Constant node's value (paddle2onnx writes every weight so; lifted to an initializer by a pass)
   */
  onInitializer?(name: string, tensor: AnyTensor): void;
}

export type OnnxStreamOutcome = { readonly streamed: true } | { readonly streamed: false; readonly reason: string };

type Message = Record<string, unknown>;
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const ATTRIBUTE_TENSOR = 4;

interface NodeMessage extends StreamedNode { readonly attribute?: readonly { name?: string; type?: number; t?: TensorProtoMessage }[] }

/** A varint at `at` if it is complete before `end`: [value, next offset]; undefined: wait for more bytes. */
function varintAt(buf: Uint8Array, at: number, end: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (at + i >= end) return undefined;
    const b = buf[at + i]!;
    if (i < 5) value += (b & 0x7f) * 2 ** (7 * i); // lengths beyond 2^32 are refused below as not fitting
    if (b < 0x80) return [value, at + i + 1];
  }
  throw new Error('varint longer than 10 bytes');
}

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

  constructor(total: number, private readonly events: OnnxStreamEvents = {}) {
    this.buf = new Uint8Array(total || 1 << 20);
  }

  write(chunk: Uint8Array): void {
    if (this.loaded + chunk.length > this.buf.length) {
      // Decoded views keep the old buffer alive; its bytes never change, so they stay right.
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.loaded + chunk.length));
      grown.set(this.buf.subarray(0, this.loaded));
      this.buf = grown;
    }
    this.buf.set(chunk, this.loaded);
    this.loaded += chunk.length;
    if (this.stopped === undefined) {
      try {
        this.advance();
      } catch (e) {
        this.stop(`decoding failed at byte ${this.pos}: ${(e as Error).message}`);
      }
    }
  }

  /** every byte written so far */
  bytes(): Uint8Array {
    return this.loaded === this.buf.length ? this.buf : this.buf.subarray(0, this.loaded);
  }

  /** The decoded ModelProto when the stream was followed to its end, else why not (read the bytes whole then). */
  end(): { message: Message; outcome: OnnxStreamOutcome } | { message?: undefined; outcome: OnnxStreamOutcome } {
    if (this.stopped === undefined) {
      if (this.loaded === 0) this.stop('the file is empty');
      else if (this.graphEnd >= 0 || this.pos !== this.loaded) this.stop(`the stream ended inside a field (byte ${this.pos} of ${this.loaded})`);
    }
    if (this.stopped !== undefined) return { outcome: { streamed: false, reason: this.stopped } };
    return { message: this.model, outcome: { streamed: true } };
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
  }

  private advance(): void {
    const buf = this.buf;
    for (;;) {
      if (this.graphEnd >= 0 && this.pos === this.graphEnd) {
        this.graphEnd = -1; // back in the model's fields
      }
      const end = this.graphEnd >= 0 ? this.graphEnd : this.loaded;
      const tag = varintAt(buf, this.pos, Math.min(end, this.loaded));
      if (!tag) return;
      const [key, afterTag] = tag;
      if (key >= 2 ** 32) return this.stop(`a tag beyond 32 bits at byte ${this.pos}`); // the decoder would keep its low bits
      const wire = key & 7;
      const field = Math.floor(key / 8);
      let fieldEnd: number;
      if (wire === 2) {
        const length = varintAt(buf, afterTag, this.loaded);
        if (!length) return;
        if (length[0] >= 2 ** 32) return this.stop(`a length beyond 32 bits at byte ${afterTag}`);
        fieldEnd = length[1] + length[0];
        if (this.graphEnd >= 0 && fieldEnd > this.graphEnd) return this.stop(`a graph field overruns the graph (byte ${this.pos})`);
        if (this.graphEnd < 0 && field === MODEL_GRAPH) {
          if (this.graph) return this.stop('the model holds two graph fields');
          this.graph = {};
          this.model.graph = this.graph;
          this.graphEnd = fieldEnd;
          this.pos = length[1];
          continue;
        }
      } else if (wire === 0) {
        const v = varintAt(buf, afterTag, this.loaded);
        if (!v) return;
        fieldEnd = v[1];
      } else if (wire === 1 || wire === 5) {
        fieldEnd = afterTag + (wire === 1 ? 8 : 4);
      } else {
        return this.stop(`wire type ${wire} (a group or a corrupt tag) at byte ${this.pos}`);
      }
      if (fieldEnd > this.loaded) return;
      if (this.graphEnd >= 0) {
        decodeOnnxFields('GraphProto', buf, this.pos, fieldEnd, this.graph!, 1);
        if (field === GRAPH_NODE && wire === 2) this.nodeDone();
        else if (field === GRAPH_INITIALIZER && wire === 2) this.initializerDone();
      } else {
        decodeOnnxFields('ModelProto', buf, this.pos, fieldEnd, this.model, 0);
      }
      this.pos = fieldEnd;
    }
  }

  private nodeDone(): void {
    const list = this.graph!.node as NodeMessage[]; // decoded from onnx-schema.ts's NodeProto
    const node = list[list.length - 1]!;
    this.events.onNode?.(node);
    if (node.opType !== 'Constant' || (node.domain ?? '') !== '') return;
    const value = node.attribute?.find((a) => a.name === 'value' && a.type === ATTRIBUTE_TENSOR)?.t;
    if (value && node.output?.[0]) this.build(value, node.output[0]);
  }

  private initializerDone(): void {
    const list = this.graph!.initializer as TensorProtoMessage[];
    const t = list[list.length - 1]!;
    if (t.name) this.build(t, t.name);
  }

  /** Builds a weight as the reader will; one that fails (or lives in external data) is left to the reader. */
  private build(t: TensorProtoMessage, name: string): void {
    if (t.dataLocation === 1) return;
    let tensor: AnyTensor;
    try {
      tensor = tensorFromProto(t);
    } catch {
      return;
    }
    this.built.set(t, tensor);
    this.events.onInitializer?.(name, tensor);
  }
}
