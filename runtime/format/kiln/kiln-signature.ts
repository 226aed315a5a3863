// Ed25519 signatures over the preamble and header (which carries every section's SHA-256), with
// WebCrypto: crypto.subtle in browsers, workers and Node 20.
import { fail } from '../../../core/errors.ts';
import { plainBytes as plain } from './plain-bytes.ts';


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
