/** WebCrypto and streams refuse views over SharedArrayBuffer; copy only in that case. */
export const plainBytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b));
