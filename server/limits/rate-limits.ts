import type { Rate } from './rate.ts';
import { refuse, waitOf, type RefusalReason } from './refusal.ts';
import { TokenBuckets } from './token-buckets.ts';

export interface RateLimitSettings {
  newLearners: Rate | null;
  sandboxStarts: Rate | null;
  checks: Rate | null;
}

// The per-client rates of what costs the server: becoming a new learner (each may hold sandboxes
// of their own), starting a sandbox, checking an exercise. Each admit… takes a token from the
// client's bucket or throws the Refusal that tells them when to come back (and logs it with the
// learner, when there is one).
export class RateLimits {
  private readonly newLearners;
  private readonly sandboxStarts;
  private readonly checks;

  constructor(settings: RateLimitSettings) {
    this.newLearners = limiter(settings.newLearners, 'new-learners', (wait) => `Too many new visitors from your network in a short time: try again in ${wait}.`);
    this.sandboxStarts = limiter(settings.sandboxStarts, 'sandbox-starts', (wait) => `Too many lab sandboxes were started from your network in a short time: try again in ${wait}.`);
    this.checks = limiter(settings.checks, 'checks', (wait) => `Too many checks in a short time: try again in ${wait}.`);
  }

  admitNewLearner(client: string) {
    this.newLearners(client);
  }

  admitSandboxStart(client: string, learnerId: string) {
    this.sandboxStarts(client, { learnerId });
  }

  admitCheck(client: string, learnerId: string) {
    this.checks(client, { learnerId });
  }

  // `lab check` in a terminal comes from inside a sandbox, with no address: its allowance is the learner's.
  admitTerminalCheck(learnerId: string) {
    this.checks(`learner:${learnerId}`, { learnerId });
  }
}

function limiter(rate: Rate | null, reason: RefusalReason, sentence: (wait: string) => string) {
  if (!rate) return () => {};
  const buckets = new TokenBuckets(rate);
  return (key: string, who: Record<string, string> = {}) => {
    const retryAfterSeconds = buckets.take(key);
    if (retryAfterSeconds > 0) throw refuse(reason, sentence(waitOf(retryAfterSeconds)), retryAfterSeconds, { client: key, ...who });
  };
}
