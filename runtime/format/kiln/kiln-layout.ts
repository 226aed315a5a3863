// The .kiln v1 byte layout and header types (specified in docs/format.md). Shared by the writer,
// the whole-file reader, the streaming reader and `kiln inspect`; nothing here touches Node or a
// backend, so the browser build can carry it.
import type { BundleSpec } from './bundle-spec.ts';

/** "KILN" */
export const KILN_MAGIC = Uint8Array.of(0x4b, 0x49, 0x4c, 0x4e);
/** Content detection (never the file extension); cheap, so loaders can decide before importing the reader. */
export const hasKilnMagic = (bytes: Uint8Array): boolean => bytes.length >= 4 && KILN_MAGIC.every((b, i) => bytes[i] === b);
export const KILN_MAJOR = 1;
export const KILN_MINOR = 0;
/** magic(4) major(u16) minor(u16) headerLength(u32) signatureLength(u32), little-endian */
export const PREAMBLE_BYTES = 16;
/** every section starts, and every tensor sits inside its section, at a multiple of this */
export const KILN_ALIGN = 64;
/** Ed25519 signatures are 64 bytes; 0 means unsigned */
export const SIGNATURE_BYTES = 64;
/** A header larger than this (stored or decoded) is refused (a graph plus sketches is far smaller). */
export const MAX_HEADER_BYTES = 16 << 20;
/** Bit 31 of the header-length field: the header is stored deflate-raw compressed (JSON repeats itself a lot). */
export const HEADER_DEFLATED = 0x80000000;

/** Dtypes a tensor section may hold, with the bytes per element as stored (4-bit types: two per byte). */
export const STORED_DTYPES = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2,
  int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1, int4: 0.5, uint4: 0.5,
} as const;
export type StoredDtype = keyof typeof STORED_DTYPES;

export const isStoredDtype = (d: unknown): d is StoredDtype => typeof d === 'string' && Object.hasOwn(STORED_DTYPES, d);

/** Stored bytes of a tensor with `size` elements. */
export const storedByteLength = (dtype: StoredDtype, size: number): number => Math.ceil(size * STORED_DTYPES[dtype]);

export const alignUp = (n: number, a = KILN_ALIGN): number => Math.ceil(n / a) * a;

/** A graph value's type as the header stores it: dims are numbers, names (symbolic) or null (unknown). */
export interface HeaderValue {
  readonly name: string;
  readonly dtype: string;
  readonly dims?: readonly (number | string | null)[];
}

/**
 * A node attribute, tagged so floats stay floats and non-finite floats survive JSON:
 * f is a number or 'NaN' | 'Infinity' | '-Infinity'; t is an index into the tensor table.
 */
export type HeaderAttribute =
  | { readonly i: number }
  | { readonly f: number | string }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly (number | string)[] }
  | { readonly strings: readonly string[] }
  | { readonly t: number };

export interface HeaderNode {
  readonly name: string;
  readonly opType: string;
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, HeaderAttribute>>;
}

export interface HeaderTensor {
  readonly name: string;
  readonly dtype: string;
  readonly dims: readonly number[];
  /** index into `sections` */
  readonly section: number;
  /** offset inside the section's decoded bytes (a multiple of 64) */
  readonly offset: number;
  readonly byteLength: number;
  /** 'initializer' (default) or 'attribute' (the value of a node attribute, referenced by { t }) */
  readonly role?: 'initializer' | 'attribute';
  /** how the graph dequantizes it, for people and `kiln inspect` (e.g. "int8 per-channel axis 0") */
  readonly quantization?: string;
}

export interface HeaderSection {
  /** from the start of the data area (the first 64-byte boundary after the signature) */
  readonly offset: number;
  /** stored bytes (after entropy coding) */
  readonly byteLength: number;
  /** bytes once decoded; equal to byteLength when encoding is 'none' */
  readonly rawLength: number;
  readonly encoding: 'none' | 'deflate-raw';
  /** SHA-256 (hex) of the stored bytes */
  readonly sha256: string;
}

export interface KilnHeader {
  readonly graph: {
    readonly nodes: readonly HeaderNode[];
    readonly inputs: readonly HeaderValue[];
    readonly outputs: readonly HeaderValue[];
    readonly valueInfo?: readonly HeaderValue[];
  };
  /** domain ('' = ai.onnx) -> opset */
  readonly opsets: Readonly<Record<string, number>>;
  readonly producer?: string;
  /** the model's key/value metadata (ONNX metadata_props) */
  readonly modelMetadata?: Readonly<Record<string, string>>;
  readonly tensors: readonly HeaderTensor[];
  readonly sections: readonly HeaderSection[];
  /** bytes in the data area (sections and their padding) */
  readonly dataLength: number;
  readonly spec: BundleSpec;
}

/** Where the parts of a file are, from its preamble. */
export interface KilnLayout {
  readonly major: number;
  readonly minor: number;
  /** stored bytes of the header */
  readonly headerLength: number;
  /** the stored header is deflate-raw compressed JSON */
  readonly headerDeflated: boolean;
  readonly signatureLength: number;
  /** first byte of the data area */
  readonly dataStart: number;
}

export function layoutFor(headerLength: number, signatureLength: number, major = KILN_MAJOR, minor = KILN_MINOR, headerDeflated = false): KilnLayout {
  return { major, minor, headerLength, headerDeflated, signatureLength, dataStart: alignUp(PREAMBLE_BYTES + headerLength + signatureLength) };
}
