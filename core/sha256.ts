/** SHA-256 of bytes as lowercase hex, with WebCrypto (browsers, workers and Node 20 all have it). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // digest() takes a view; a view over a SharedArrayBuffer is rejected, so copy that case.
  const input = bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.slice();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
