// Optional entropy coding of sections: deflate-raw through the platform's CompressionStream /
// DecompressionStream (browsers, workers and Node 20), so the reader ships no decoder of its own.
import { fail } from '../../../core/errors.ts';
import { plainBytes } from './plain-bytes.ts';

async function pipeThrough(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number, what: string): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Errors surface on the reading side; the write promises are only awaited to avoid unhandled rejections.
  const written = writer.write(plainBytes(bytes)).then(() => writer.close()).catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      // A bomb (or a wrong rawLength) stops here instead of filling memory.
      if (length > limit) {
        await reader.cancel().catch(() => undefined);
        return fail('INVALID_MODEL', `${what} decodes to more than the ${limit} bytes its header declares`);
      }
      chunks.push(value);
    }
  } catch (e) {
    return fail('INVALID_MODEL', `${what} is not valid deflate-raw data: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await written;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  return pipeThrough(bytes, new CompressionStream('deflate-raw'), Number.MAX_SAFE_INTEGER, 'data');
}

/** Decodes at most `limit` bytes (more is an error naming `what`). */
export function inflateRawUpTo(bytes: Uint8Array, limit: number, what: string): Promise<Uint8Array> {
  return pipeThrough(bytes, new DecompressionStream('deflate-raw'), limit, what);
}

/** Decodes exactly `rawLength` bytes, or fails naming `what`. */
export async function inflateRaw(bytes: Uint8Array, rawLength: number, what: string): Promise<Uint8Array> {
  const out = await pipeThrough(bytes, new DecompressionStream('deflate-raw'), rawLength, what);
  if (out.length !== rawLength) fail('INVALID_MODEL', `${what} decodes to ${out.length} bytes, its header declares ${rawLength}`);
  return out;
}
