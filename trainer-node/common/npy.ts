// NumPy .npy files (format versions 1.0 to 3.0): the way Python users hand arrays to `kiln compress`
// (calibration data) and `kiln train`. Little-endian numeric types only, C order only; anything else
// is named in a KilnError instead of being misread.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy descr (without the byte-order mark) <-> Kiln dtype */
const DESCR: Readonly<Record<string, DataType>> = {
  f4: 'float32', f8: 'float64', f2: 'float16',
  i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64',
  b1: 'bool',
};
const DESCR_OF: Partial<Record<DataType, string>> = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k]));
const BYTES: Readonly<Record<string, number>> = { f4: 4, f8: 8, f2: 2, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, b1: 1 };

/** Parses a .npy file. `where` names the file in errors. */
export function readNpy(bytes: Uint8Array, where = '.npy'): AnyTensor {
  const bad = (what: string): never => fail('INVALID_ARGUMENT', `${where}: ${what}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) bad(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : bytes.length >= 12 ? view.getUint32(8, true) : bad('truncated header');
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) bad('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1] ?? bad(`header has no 'descr': ${header.trim()}`);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] ?? bad(`header has no 'fortran_order': ${header.trim()}`);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? bad(`header has no 'shape': ${header.trim()}`);
  if (fortran === 'True') bad('Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const d = Number(s.replace(/L$/, ''));
    return Number.isInteger(d) && d >= 0 ? d : bad(`bad dimension '${s}' in shape (${shapeText})`);
  });
  const order = descr[0];
  const code = descr.slice(1);
  const dtype = DESCR[code];
  if (!dtype) bad(`dtype '${descr}' is not supported (use float32, float64, float16, int8/16/32/64, uint8/16/32/64 or bool)`);
  if (order === '>' && BYTES[code]! > 1) bad(`big-endian dtype '${descr}' is not supported`);
  if (order !== '<' && order !== '|' && order !== '=') bad(`dtype '${descr}' has an unknown byte order`);
  const size = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = size * BYTES[code]!;
  if (bytes.length - dataStart < need) bad(`holds ${bytes.length - dataStart} data bytes, shape (${shape.join(', ')}) of ${descr} needs ${need}`);
  // copy into an aligned buffer: the data offset is only guaranteed 16-aligned within the file
  const raw = bytes.slice(dataStart, dataStart + need).buffer;
  const data = (() => {
    switch (dtype!) {
      case 'float32': return new Float32Array(raw);
      case 'float64': return new Float64Array(raw);
      case 'float16': return new Uint16Array(raw);
      case 'int8': return new Int8Array(raw);
      case 'uint8': case 'bool': return new Uint8Array(raw);
      case 'int16': return new Int16Array(raw);
      case 'uint16': return new Uint16Array(raw);
      case 'int32': return new Int32Array(raw);
      case 'uint32': return new Uint32Array(raw);
      case 'int64': return new BigInt64Array(raw);
      case 'uint64': return new BigUint64Array(raw);
      default: return bad(`dtype '${descr}' is not supported`);
    }
  })();
  return new Tensor(dtype!, data, shape);
}

/** Encodes a tensor as a version 1.0 .npy file (little-endian, C order). */
export function writeNpy(t: AnyTensor): Uint8Array {
  const code = DESCR_OF[t.type];
  if (!code) return fail('INVALID_ARGUMENT', `a ${t.type} tensor cannot be written as .npy`);
  const order = BYTES[code] === 1 ? '|' : '<';
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${order}${code}', 'fortran_order': False, 'shape': ${shape}, }`;
  // the header (with magic, version and length) is padded with spaces to a multiple of 64, ending in \n
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const view = t.data as ArrayBufferView;
  const out = new Uint8Array(total + view.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), total);
  return out;
}
