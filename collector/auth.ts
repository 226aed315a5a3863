// Bearer keys. Write keys (API keys) may only post telemetry; the read key only reads. Keys are
// compared through their SHA-256 in constant time and never stored: dedup records keep a short
// hash ("key id") so a leaked database does not leak keys.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export interface KeyCheck {
  /** the key's id for dedup and rate limits, or undefined when the key is not accepted */
  check(token: string | undefined): string | undefined;
  readonly open: boolean;
}

export function keyChecker(keys: readonly string[]): KeyCheck {
  const digests = keys.map(digest);
  return {
    open: keys.length === 0,
    check(token) {
      if (digests.length === 0) return '';
      if (token === undefined) return undefined;
      const d = digest(token);
      // Compare with every key so the time taken says nothing about which one matched.
      let hit = false;
      for (const k of digests) hit = timingSafeEqual(k, d) || hit;
      return hit ? d.subarray(0, 12).toString('hex') : undefined;
    },
  };
}
