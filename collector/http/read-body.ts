// Reads a request body under a size cap and decodes gzip under a second cap (a zip bomb of a few
// KB must not become gigabytes in memory). Failures carry the HTTP status to answer with.
import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves with the raw bytes, or rejects with BodyError(413) as soon as the cap is passed. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) {
    req.resume(); // drain (not buffer) what the client is still sending, so it reads our 413
    return Promise.reject(new BodyError(413, `the body is ${declared} bytes, more than the ${maxBytes} bytes this collector accepts`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return; // keep draining so the client can read our 413 instead of a reset
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        reject(new BodyError(413, `the body is more than the ${maxBytes} bytes this collector accepts`));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (e) => reject(e));
    // A client that disappears mid-body (or is cut off at shutdown) must not leave us waiting.
    req.on('close', () => {
      if (!ended) reject(new BodyError(400, 'the connection closed before the body was complete'));
    });
  });
}

export function decodeBody(raw: Buffer, encoding: string | undefined, maxDecoded: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return Promise.resolve(raw);
  if (enc !== 'gzip') return Promise.reject(new BodyError(415, `Content-Encoding ${enc} is not supported; send gzip or identity`));
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxDecoded }, (err, out) => {
      if (!err) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(new BodyError(413, `the gzip body decodes to more than the ${maxDecoded} bytes this collector accepts`));
      else reject(new BodyError(400, `the body is not valid gzip (${err.message})`));
    });
  });
}
