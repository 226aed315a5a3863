import type { LongLike } from './long.ts';
import { onnxSchema } from './onnx-schema.ts';

/**
 * Static decoders for the ONNX messages in onnx-schema.ts: one loop over the protobuf wire format
 * (varints, lengths, 32/64-bit values, groups skipped) driven by that schema. It replaced protobufjs'
 * reflection build (light.js + long, 27 KB gzip) and is 2 KB; protobufjs' minimal Reader alone was
 * 8 KB, a tenth of the script-tag build (docs/decisions.md, "bundle"). protobufjs stays the oracle:
 * test/format/onnx-decoder.test.ts decodes the same bytes with it. Messages come out as light.js gave
 * them: fields in camelCase, present only when on the wire, bytes as views into the model bytes,
 * int64 as an exact LongLike.
 */
type ScalarType = 'int32' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';
interface FieldSpec { readonly type: string; readonly id: number; readonly rule?: 'repeated' }
interface MessageSpec { readonly fields: Readonly<Record<string, FieldSpec>>; readonly nested?: Readonly<Record<string, MessageSpec>> }

interface Field { name: string; repeated: boolean; scalar?: ScalarType; message?: string }
type Decoded = Record<string, unknown>;

const SCALARS = new Set<string>(['int32', 'int64', 'uint64', 'float', 'double', 'string', 'bytes']);
/** The wire type each scalar is written with unpacked (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit). */
const WIRE: Record<ScalarType, number> = { int32: 0, int64: 0, uint64: 0, float: 5, double: 1, string: 2, bytes: 2 };
/** protobufjs' nesting limit (Reader.recursionLimit): a forged model must not exhaust the stack. */
const MAX_DEPTH = 100;

const messages = new Map<string, Map<number, Field>>();
function addMessages(specs: Readonly<Record<string, MessageSpec>>): void {
  for (const [name, spec] of Object.entries(specs)) {
    const fields = new Map<number, Field>();
    for (const [fieldName, f] of Object.entries(spec.fields)) {
      fields.set(f.id, SCALARS.has(f.type)
        ? { name: fieldName, repeated: f.rule === 'repeated', scalar: f.type as ScalarType } // SCALARS holds exactly the ScalarType names
        : { name: fieldName, repeated: f.rule === 'repeated', message: f.type });
    }
    messages.set(name, fields);
    if (spec.nested) addMessages(spec.nested);
  }
}
addMessages(onnxSchema.nested.onnx.nested);

const utf8 = new TextDecoder();
const outOfRange = (at: number, what: string): RangeError => new RangeError(`index out of range: ${what} at offset ${at}`);

/** A cursor over protobuf wire data; every read is bounds-checked against the buffer. */
class WireReader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, uint32); int32 callers apply `| 0`. */
  varint32(): number {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw outOfRange(this.pos, 'varint');
      const b = this.buf[this.pos++]!;
      if (i < 5) value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return value >>> 0;
    }
    throw new Error(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** An int64/uint64 varint, exactly: a number while it is a safe integer, else its two 32-bit halves. */
  varint64(unsigned: boolean): LongLike {
    let low = 0;
    let high = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw outOfRange(this.pos, 'varint');
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) low |= bits << (7 * i);
      else if (i === 4) {
        low |= bits << 28; // the low 4 bits of this byte; `<<` drops the rest
        high |= bits >>> 4;
      } else high |= bits << (7 * i - 32);
      if (b < 0x80) {
        const lo = low >>> 0;
        const hi = high >>> 0;
        if (hi < 0x200000) return hi * 0x100000000 + lo; // < 2^53
        if (!unsigned && hi === 0xffffffff && lo !== 0) return -(0x100000000 - lo); // small negative
        return { low: lo | 0, high: hi | 0, unsigned };
      }
    }
    throw new Error(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** The end offset of a length-delimited field starting here, checked against `end`. */
  delimited(end: number): number {
    const length = this.varint32();
    const stop = this.pos + length;
    if (stop > end) throw outOfRange(this.pos, `${length}-byte field`);
    return stop;
  }

  fixed(bytes: 4 | 8): number {
    const at = this.pos;
    if (at + bytes > this.buf.length) throw outOfRange(at, `${bytes}-byte value`);
    this.pos += bytes;
    return bytes === 4 ? this.view.getFloat32(at, true) : this.view.getFloat64(at, true);
  }

  /** Skips one field of the given wire type (groups included, as protobufjs does). */
  skipField(wire: number, field: number, end: number, depth: number): void {
    switch (wire) {
      case 0: this.varint32(); return;
      case 1: this.skipBytes(8, end); return;
      case 2: this.pos = this.delimited(end); return;
      case 5: this.skipBytes(4, end); return;
      case 3: {
        if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
        for (;;) {
          if (this.pos >= end) throw outOfRange(this.pos, 'unterminated group');
          const tag = this.varint32();
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new Error(`group ${field} closed by end tag of field ${tag >>> 3}`);
            return;
          }
          if (tag >>> 3 === 0) throw new Error('illegal tag: field number 0');
          this.skipField(tag & 7, tag >>> 3, end, depth + 1);
        }
      }
      default: throw new Error(`invalid wire type ${wire} at offset ${this.pos}`);
    }
  }

  private skipBytes(n: number, end: number): void {
    if (this.pos + n > end) throw outOfRange(this.pos, `${n}-byte value`);
    this.pos += n;
  }
}

/** Decodes `bytes` as the named onnx message; truncated or corrupt input throws a RangeError/Error naming the offset. */
export function decodeOnnxMessage(type: string, bytes: Uint8Array): Decoded {
  return decodeMessage(new WireReader(bytes), type, bytes.length, 0);
}

/**
 * Decodes whole fields of a `type` message (`bytes[start, end)`, each with its tag) into `into`, as if
 * they stood at that point of one message `depth` levels deep: the streaming reader feeds a message
 * field by field and gets exactly what decodeOnnxMessage gives for the whole (onnx-stream.ts).
 */
export function decodeOnnxFields(type: string, bytes: Uint8Array, start: number, end: number, into: Decoded, depth: number): void {
  const r = new WireReader(bytes);
  r.pos = start;
  decodeMessage(r, type, end, depth, into);
}

/**
 * Where the field at `pos` lies: [its tag, where its payload starts, where it ends]; a length-delimited
 * field's end is not checked against `bytes`, other fields are skipped, so they throw when `bytes` end
 * first. The streaming reader asks this until a field is complete.
 */
export function fieldAt(bytes: Uint8Array, pos: number): [tag: number, start: number, end: number] {
  const r = new WireReader(bytes);
  r.pos = pos;
  const tag = r.varint32();
  if ((tag & 7) === 2) {
    const length = r.varint32();
    return [tag, r.pos, r.pos + length];
  }
  r.skipField(tag & 7, tag >>> 3, bytes.length, 0);
  return [tag, r.pos, r.pos];
}

function decodeMessage(r: WireReader, type: string, end: number, depth: number, m: Decoded = {}): Decoded {
  if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
  const fields = messages.get(type);
  if (!fields) throw new Error(`onnx-schema.ts has no message ${type}`);
  while (r.pos < end) {
    const tag = r.varint32();
    const wire = tag & 7;
    const number = tag >>> 3;
    if (number === 0) throw new Error(`illegal tag: field number 0 at offset ${r.pos}`);
    const f = fields.get(number);
    if (!f || (f.message !== undefined && wire !== 2)) {
      r.skipField(wire, number, end, depth);
      continue;
    }
    if (f.message !== undefined) {
      store(m, f, decodeMessage(r, f.message, r.delimited(end), depth + 1));
      continue;
    }
    const scalar = f.scalar!;
    if (f.repeated && wire === 2 && WIRE[scalar] !== 2) {
      // A packed run of numbers.
      const stop = r.delimited(end);
      const list = (m[f.name] ??= []) as unknown[];
      while (r.pos < stop) list.push(readScalar(r, scalar, end));
      if (r.pos !== stop) throw new RangeError('packed field overruns its length');
    } else if (wire === WIRE[scalar]) {
      store(m, f, readScalar(r, scalar, end));
    } else {
      r.skipField(wire, number, end, depth);
    }
  }
  if (r.pos !== end) throw new RangeError('message overruns its length');
  return m;
}

function store(m: Decoded, f: Field, value: unknown): void {
  if (f.repeated) ((m[f.name] ??= []) as unknown[]).push(value);
  else m[f.name] = value;
}

function readScalar(r: WireReader, type: ScalarType, end: number): unknown {
  switch (type) {
    case 'int32': return r.varint32() | 0;
    case 'int64': return r.varint64(false);
    case 'uint64': return r.varint64(true);
    case 'float': return r.fixed(4);
    case 'double': return r.fixed(8);
    case 'string': case 'bytes': {
      const stop = r.delimited(end);
      const view = r.buf.subarray(r.pos, stop);
      r.pos = stop;
      return type === 'string' ? utf8.decode(view) : view;
    }
  }
}
