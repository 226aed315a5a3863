// Per-key token buckets: `perSecond` batches per second with a burst of one second's worth.
// `take` answers how long to wait when the bucket is empty, which becomes Retry-After.

export interface RateLimiter {
  /** 0 when allowed now, else the seconds until a token is available */
  take(key: string, nowMs: number): number;
}

const MAX_TRACKED = 100_000; // forget idle buckets beyond this many keys/addresses

export function rateLimiter(perSecond: number): RateLimiter {
  if (perSecond === 0) return { take: () => 0 };
  const capacity = Math.max(1, perSecond);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, nowMs) {
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= MAX_TRACKED) buckets.clear(); // a flood of addresses: start over rather than grow
        b = { tokens: capacity, at: nowMs };
        buckets.set(key, b);
      }
      b.tokens = Math.min(capacity, b.tokens + ((nowMs - b.at) / 1000) * perSecond);
      b.at = nowMs;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return (1 - b.tokens) / perSecond;
    },
  };
}
