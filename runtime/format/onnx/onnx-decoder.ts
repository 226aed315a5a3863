import protobuf from 'protobufjs/minimal.js';
import type { LongLike } from './long.ts';
import { onnxSchema } from './onnx-schema.ts';

/**
 * Static decoders for the ONNX messages in onnx-schema.ts, over protobufjs' minimal Reader (the wire
 * format: varints, lengths, floats, UTF-8, skipping unknown fields). protobufjs' reflection build
 * (light.js, ~23 KB gzip with `long`) was most of the ONNX path's download; this is its reader
 * (~7 KB) plus one loop driven by the same schema. Messages come out as light.js gave them: fields
 * named in camelCase, present only when on the wire (repeated fields: only when at least one entry
 * was read), bytes as views into the model bytes, and int64 as an exact LongLike.
 */
type ScalarType = 'int32' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';
interface FieldSpec { readonly type: string; readonly id: number; readonly rule?: 'repeated' }
interface MessageSpec { readonly fields: Readonly<Record<string, FieldSpec>>; readonly nested?: Readonly<Record<string, MessageSpec>> }

interface Field { name: string; repeated: boolean; scalar?: ScalarType; message?: string }
type Decoded = Record<string, unknown>;

const SCALARS = new Set<string>(['int32', 'int64', 'uint64', 'float', 'double', 'string', 'bytes']);
/** The wire type each scalar is written with unpacked (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit). */
const WIRE: Record<ScalarType, number> = { int32: 0, int64: 0, uint64: 0, float: 5, double: 1, string: 2, bytes: 2 };
/** protobufjs' own nesting limit (Reader.recursionLimit): a forged model must not exhaust the stack. */
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

/** Decodes `bytes` as the named onnx message; protobufjs' RangeError/Error on truncated or corrupt input propagates. */
export function decodeOnnxMessage(type: string, bytes: Uint8Array): Decoded {
  const reader = protobuf.Reader.create(bytes);
  return decodeMessage(reader, type, reader.len, 0);
}

function decodeMessage(r: protobuf.Reader, type: string, end: number, depth: number): Decoded {
  if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
  const fields = messages.get(type);
  if (!fields) throw new Error(`onnx-schema.ts has no message ${type}`);
  const m: Decoded = {};
  while (r.pos < end) {
    const tag = r.tag();
    const wire = tag & 7;
    const f = fields.get(tag >>> 3);
    if (!f || (f.message !== undefined && wire !== 2)) {
      r.skipType(wire, depth, tag >>> 3);
      continue;
    }
    if (f.message !== undefined) {
      const length = r.uint32();
      const stop = r.pos + length;
      if (stop > end) throw new RangeError(`index out of range: ${r.pos} + ${length} > ${end}`);
      store(m, f, decodeMessage(r, f.message, stop, depth + 1));
      continue;
    }
    const scalar = f.scalar!;
    if (f.repeated && wire === 2 && WIRE[scalar] !== 2) {
      // A packed run of numbers.
      const length = r.uint32();
      const stop = r.pos + length;
      if (stop > end) throw new RangeError(`index out of range: ${r.pos} + ${length} > ${end}`);
      const list = (m[f.name] ??= []) as unknown[];
      while (r.pos < stop) list.push(readScalar(r, scalar));
      if (r.pos !== stop) throw new RangeError('packed field overruns its length');
    } else if (wire === WIRE[scalar]) {
      store(m, f, readScalar(r, scalar));
    } else {
      r.skipType(wire, depth, tag >>> 3);
    }
  }
  if (r.pos !== end) throw new RangeError('message overruns its length');
  return m;
}

function store(m: Decoded, f: Field, value: unknown): void {
  if (f.repeated) ((m[f.name] ??= []) as unknown[]).push(value);
  else m[f.name] = value;
}

function readScalar(r: protobuf.Reader, type: ScalarType): unknown {
  switch (type) {
    case 'int32': return r.int32();
    case 'int64': return readVarint64(r, false);
    case 'uint64': return readVarint64(r, true);
    case 'float': return r.float();
    case 'double': return r.double();
    case 'string': return r.string();
    case 'bytes': return r.bytes();
  }
}

/**
 * An int64/uint64 varint, exactly: a number while it is a safe integer, else its two 32-bit halves.
 * (protobufjs' own int64() returns a rounded number unless the `long` package is bundled.)
 */
function readVarint64(r: protobuf.Reader, unsigned: boolean): LongLike {
  let low = 0;
  let high = 0;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) throw new RangeError(`index out of range: varint at ${r.pos}`);
    const b = r.buf[r.pos++]!;
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
  throw new Error(`varint longer than 10 bytes at ${r.pos}`);
}
