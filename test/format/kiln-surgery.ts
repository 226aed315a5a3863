// Take a .kiln file apart and put it back together with a changed header, preamble or data, so
// the bad-input and fuzz tests can forge exactly the damage they mean (lengths stay consistent).
import { inflateRawSync } from 'node:zlib';
import { HEADER_DEFLATED, KILN_MAGIC, PREAMBLE_BYTES, alignUp } from '../../runtime/format/kiln/kiln-layout.ts';

/** Stored header length (without the compressed-header flag). */
export const storedHeaderLength = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true) & ~HEADER_DEFLATED;

export interface KilnParts {
  major: number;
  minor: number;
  header: Record<string, unknown>;
  signature: Uint8Array;
  data: Uint8Array;
}

export function splitKiln(bytes: Uint8Array): KilnParts {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = v.getUint32(8, true);
  const h = field & ~HEADER_DEFLATED;
  const s = v.getUint32(12, true);
  const stored = bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + h);
  const dataStart = alignUp(PREAMBLE_BYTES + h + s);
  return {
    major: v.getUint16(4, true),
    minor: v.getUint16(6, true),
    header: JSON.parse(new TextDecoder().decode(field & HEADER_DEFLATED ? inflateRawSync(stored) : stored)) as Record<string, unknown>,
    signature: bytes.slice(PREAMBLE_BYTES + h, PREAMBLE_BYTES + h + s),
    data: bytes.slice(dataStart),
  };
}

/** Writes the header uncompressed; headerText overrides the JSON (for malformed headers). */
export function joinKiln(p: KilnParts, headerText?: string): Uint8Array {
  const header = new TextEncoder().encode(headerText ?? JSON.stringify(p.header));
  const dataStart = alignUp(PREAMBLE_BYTES + header.length + p.signature.length);
  const out = new Uint8Array(dataStart + p.data.length);
  out.set(KILN_MAGIC);
  const v = new DataView(out.buffer);
  v.setUint16(4, p.major, true);
  v.setUint16(6, p.minor, true);
  v.setUint32(8, header.length, true);
  v.setUint32(12, p.signature.length, true);
  out.set(header, PREAMBLE_BYTES);
  out.set(p.signature, PREAMBLE_BYTES + header.length);
  out.set(p.data, dataStart);
  return out;
}

/** Re-encodes with `edit` applied to a deep copy of the header. */
export function withHeader(bytes: Uint8Array, edit: (h: Record<string, unknown> & { sections: Record<string, unknown>[]; tensors: Record<string, unknown>[]; graph: { nodes: Record<string, unknown>[] } }) => void): Uint8Array {
  const p = splitKiln(bytes);
  edit(p.header as Parameters<typeof edit>[0]);
  return joinKiln(p);
}
