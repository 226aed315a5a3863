// Ed25519 signatures over the preamble and header (which carries every section's SHA-256), with
// WebCrypto: crypto.subtle in browsers, workers and Node 20.
import { fail } from '../../../core/errors.ts';
import { sha256Hex } from '../../../core/sha256.ts';
import { plainBytes as plain } from './plain-bytes.ts';

/** What callers may pass to check signatures (KilnReadOptions and SessionOptions share it). */
export interface SignatureOptions {
  publicKey?: CryptoKey | readonly CryptoKey[];
  requireSignature?: boolean;
  allowUnsigned?: boolean;
}

/**
 * The rule: a public key given means a signature is required, unless allowUnsigned says
 * otherwise; requireSignature without a key, or with allowUnsigned, is a contradiction.
 */
export function signaturePolicy(o: SignatureOptions): { keys: readonly CryptoKey[]; required: boolean } {
  const keys = o.publicKey === undefined ? [] : Array.isArray(o.publicKey) ? (o.publicKey as readonly CryptoKey[]) : [o.publicKey as CryptoKey];
  // An empty list is most likely keys that failed to load: loading unsigned models then would be silent.
  if (o.publicKey !== undefined && keys.length === 0) fail('INVALID_ARGUMENT', 'publicKey is an empty list; pass at least one Ed25519 public key (or none)');
  if (o.requireSignature && keys.length === 0) fail('INVALID_ARGUMENT', 'requireSignature needs a publicKey to verify against');
  if (o.requireSignature && o.allowUnsigned) fail('INVALID_ARGUMENT', 'requireSignature and allowUnsigned contradict each other');
  return { keys, required: o.requireSignature === true || (keys.length > 0 && o.allowUnsigned !== true) };
}

/** A key's id: the first 16 hex digits of the SHA-256 of its raw 32 bytes (what `kiln inspect` prints). */
export async function keyIdOf(key: CryptoKey): Promise<string | undefined> {
  if (!key.extractable) return undefined; // a caller's non-extractable key has no bytes to name it by
  return (await sha256Hex(new Uint8Array(await crypto.subtle.exportKey('raw', key)))).slice(0, 16);
}


export async function signKiln(message: Uint8Array, privateKey: CryptoKey): Promise<Uint8Array> {
  if (privateKey.algorithm.name !== 'Ed25519' || privateKey.type !== 'private') fail('INVALID_ARGUMENT', 'signingKey must be an Ed25519 private CryptoKey');
  return new Uint8Array(await crypto.subtle.sign('Ed25519', privateKey, plain(message)));
}

export async function verifyKiln(message: Uint8Array, signature: Uint8Array, publicKey: CryptoKey): Promise<boolean> {
  if (publicKey.algorithm.name !== 'Ed25519' || publicKey.type !== 'public') fail('INVALID_ARGUMENT', 'publicKey must be an Ed25519 public CryptoKey');
  return crypto.subtle.verify('Ed25519', publicKey, plain(signature), plain(message));
}

/** Imports a raw 32-byte Ed25519 public key (what `kiln inspect --public-key` and apps pass). */
export function importKilnPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) fail('INVALID_ARGUMENT', `an Ed25519 public key is 32 raw bytes, got ${raw.length}`);
  return crypto.subtle.importKey('raw', plain(raw), 'Ed25519', true, ['verify']);
}
