import type { Rate } from './rate.ts';

// One token bucket per key (a client): `rate.count` tokens at most, refilled evenly over
// `rate.perMs`, so a burst up to the count goes through at once and a steady stream at the rate.
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly msPerToken: number;
  private prunedAt: number;

  constructor(private readonly rate: Rate, private readonly now: () => number = Date.now) {
    this.msPerToken = rate.perMs / rate.count;
    this.prunedAt = now();
  }

  // Takes a token for `key`: 0 when there was one, else the seconds until there will be.
  take(key: string): number {
    const now = this.now();
    this.pruneOncePerPeriod(now);
    const tokens = this.tokensOf(key, now);
    if (tokens < 1) return Math.ceil(Math.round((1 - tokens) * this.msPerToken) / 1000);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return 0;
  }

  private tokensOf(key: string, now: number) {
    const bucket = this.buckets.get(key);
    return bucket ? Math.min(this.rate.count, bucket.tokens + (now - bucket.at) / this.msPerToken) : this.rate.count;
  }

  // A full bucket is the same as none: forgetting those keeps only the clients of the last period.
  private pruneOncePerPeriod(now: number) {
    if (now - this.prunedAt < this.rate.perMs) return;
    this.prunedAt = now;
    for (const key of [...this.buckets.keys()]) if (this.tokensOf(key, now) >= this.rate.count) this.buckets.delete(key);
  }
}
