// Reads and checks the preamble and the header JSON of a .kiln file. Everything a later step
// relies on (offsets inside the file, alignment, no overlaps, byte lengths that match dtype and
// dims, known dtypes and encodings) is checked here, before any tensor byte is touched.
import { KilnError, fail } from '../../../core/errors.ts';
import { inflateRawUpTo } from './kiln-codec.ts';
import {
  HEADER_DEFLATED, KILN_ALIGN, KILN_MAJOR, MAX_HEADER_BYTES, PREAMBLE_BYTES, SIGNATURE_BYTES,
  hasKilnMagic, isStoredDtype, layoutFor, storedByteLength,
  type HeaderSection, type HeaderTensor, type KilnHeader, type KilnLayout,
} from './kiln-layout.ts';

const bad = (what: string): never => fail('INVALID_MODEL', `.kiln: ${what}`);

/** The preamble, once 16 bytes are there. */
export function readPreamble(bytes: Uint8Array): KilnLayout {
  if (bytes.length < PREAMBLE_BYTES) return bad(`the file is truncated: ${bytes.length} bytes, the preamble alone is ${PREAMBLE_BYTES}`);
  if (!hasKilnMagic(bytes)) return bad('not a .kiln bundle (wrong magic; expected "KILN")');
  const view = new DataView(bytes.buffer, bytes.byteOffset, PREAMBLE_BYTES);
  const major = view.getUint16(4, true);
  const minor = view.getUint16(6, true);
  if (major !== KILN_MAJOR) {
    fail('INVALID_MODEL', `.kiln: this bundle is format version ${major}.${minor}; this Kiln reads version ${KILN_MAJOR}.x${major > KILN_MAJOR ? ' (update Kiln to read it)' : ''}`, { fileVersion: `${major}.${minor}`, readerVersion: `${KILN_MAJOR}` });
  }
  const field = view.getUint32(8, true);
  const headerDeflated = (field & HEADER_DEFLATED) !== 0;
  const headerLength = field & ~HEADER_DEFLATED;
  const signatureLength = view.getUint32(12, true);
  if (headerLength === 0) bad('the header is empty');
  if (headerLength > MAX_HEADER_BYTES) bad(`the header claims ${headerLength} bytes; the limit is ${MAX_HEADER_BYTES}`);
  if (signatureLength !== 0 && signatureLength !== SIGNATURE_BYTES) bad(`signature length ${signatureLength}; an Ed25519 signature is ${SIGNATURE_BYTES} bytes (or 0 for unsigned)`);
  return layoutFor(headerLength, signatureLength, major, minor, headerDeflated);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonNegInt = (v: unknown, where: string): number => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${where} must be a non-negative integer (got ${JSON.stringify(v)})`));

/** Parses the header JSON and checks the tensor table and sections against each other. */
export async function parseHeader(bytes: Uint8Array, layout: KilnLayout): Promise<KilnHeader> {
  const stored = bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + layout.headerLength);
  const text = layout.headerDeflated ? await inflateRawUpTo(stored, MAX_HEADER_BYTES, '.kiln header') : stored;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (e) {
    return bad(`the header is not valid UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isRecord(json)) return bad('the header is not a JSON object');
  for (const key of ['graph', 'opsets', 'tensors', 'sections', 'spec'] as const) if (json[key] === undefined) bad(`the header has no '${key}'`);
  if (!Array.isArray(json.tensors) || !Array.isArray(json.sections)) return bad(`the header's tensors and sections must be lists`);
  if (!isRecord(json.spec)) bad(`the header's spec must be an object`);
  const dataLength = nonNegInt(json.dataLength, 'dataLength');
  if (dataLength % KILN_ALIGN !== 0) bad(`dataLength ${dataLength} is not a multiple of ${KILN_ALIGN}`);
  const sections = json.sections.map((s, i) => checkSection(s, i, dataLength));
  for (let i = 1; i < sections.length; i++) {
    const prev = sections[i - 1]!;
    if (sections[i]!.offset < prev.offset + prev.byteLength) bad(`section ${i} (offset ${sections[i]!.offset}) overlaps section ${i - 1} (ends at ${prev.offset + prev.byteLength}); sections must be in file order`);
  }
  const tensors = json.tensors.map((t, i) => checkTensor(t, i, sections));
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.role === 'attribute') continue;
    if (names.has(t.name)) bad(`tensor '${t.name}' appears twice in the tensor table`);
    names.add(t.name);
  }
  // Overlapping tensors would alias one another's weights.
  const bySection = new Map<number, HeaderTensor[]>();
  for (const t of tensors) {
    const list = bySection.get(t.section);
    if (list) list.push(t);
    else bySection.set(t.section, [t]);
  }
  for (const [s, list] of bySection) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.offset < list[i - 1]!.offset + list[i - 1]!.byteLength) bad(`tensors '${list[i - 1]!.name}' and '${list[i]!.name}' overlap in section ${s}`);
    }
  }
  // Cast with a reason: tensors, sections and dataLength are the checked values above; graph, opsets
  // and spec are checked field by field where they become the IR and the BundleSpec (kiln-reader.ts),
  // which reports their problems as INVALID_MODEL too.
  return { ...(json as unknown as KilnHeader), sections, tensors, dataLength };
}

function checkSection(s: unknown, i: number, dataLength: number): HeaderSection {
  const where = `section ${i}`;
  if (!isRecord(s)) return bad(`${where} must be an object`);
  const offset = nonNegInt(s.offset, `${where} offset`);
  const byteLength = nonNegInt(s.byteLength, `${where} byteLength`);
  const rawLength = nonNegInt(s.rawLength, `${where} rawLength`);
  if (offset % KILN_ALIGN !== 0) bad(`${where} offset ${offset} is not ${KILN_ALIGN}-byte aligned`);
  if (offset + byteLength > dataLength) bad(`${where} (offset ${offset}, ${byteLength} bytes) lies outside the data area (${dataLength} bytes)`);
  if (s.encoding !== 'none' && s.encoding !== 'deflate-raw') bad(`${where} has unknown encoding ${JSON.stringify(s.encoding)}`);
  if (s.encoding === 'none' && rawLength !== byteLength) bad(`${where} is not encoded but rawLength ${rawLength} != byteLength ${byteLength}`);
  // deflate cannot expand data by more than ~1032x; a larger claim is a forged header.
  if (s.encoding === 'deflate-raw' && rawLength > byteLength * 1032 + 64) bad(`${where} claims ${rawLength} decoded bytes from ${byteLength}`);
  if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) bad(`${where} has no valid sha256`);
  return { offset, byteLength, rawLength, encoding: s.encoding as HeaderSection['encoding'], sha256: s.sha256 as string };
}

function checkTensor(t: unknown, i: number, sections: readonly HeaderSection[]): HeaderTensor {
  if (!isRecord(t)) return bad(`tensor #${i} must be an object`);
  const name = typeof t.name === 'string' && t.name !== '' ? t.name : bad(`tensor #${i} has no name`);
  const where = `tensor '${name}'`;
  if (!isStoredDtype(t.dtype)) return bad(`${where} has unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.dims)) return bad(`${where} dims must be a list`);
  const dims = t.dims.map((d, k) => nonNegInt(d, `${where} dims[${k}]`));
  const size = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size)) bad(`${where} has too many elements`);
  const section = nonNegInt(t.section, `${where} section`);
  const offset = nonNegInt(t.offset, `${where} offset`);
  const byteLength = nonNegInt(t.byteLength, `${where} byteLength`);
  const s = sections[section] ?? bad(`${where} names section ${section}; the bundle has ${sections.length}`);
  if (offset % KILN_ALIGN !== 0) bad(`${where} offset ${offset} is not ${KILN_ALIGN}-byte aligned`);
  if (byteLength !== storedByteLength(t.dtype, size)) bad(`${where} has ${byteLength} bytes; ${t.dtype}[${dims.join(', ')}] needs ${storedByteLength(t.dtype, size)}`);
  if (offset + byteLength > s.rawLength) bad(`${where} (offset ${offset}, ${byteLength} bytes) lies outside section ${section} (${s.rawLength} bytes)`);
  if (t.role !== undefined && t.role !== 'initializer' && t.role !== 'attribute') bad(`${where} has unknown role ${JSON.stringify(t.role)}`);
  return {
    name, dtype: t.dtype, dims, section, offset, byteLength,
    ...(t.role === 'attribute' ? { role: 'attribute' as const } : {}),
    ...(typeof t.quantization === 'string' ? { quantization: t.quantization } : {}),
  };
}

/** Wraps unforeseen failures (a reader bug, an odd input) as INVALID_MODEL, like the ONNX reader. */
export function typedModelError(e: unknown): KilnError {
  if (e instanceof KilnError) return e;
  return new KilnError('INVALID_MODEL', `.kiln: the bundle could not be read: ${e instanceof Error ? e.message : String(e)}`);
}
