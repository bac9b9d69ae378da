import { log } from '../ops/log.ts';
import { refusals } from '../ops/metrics.ts';

const REASONS = ['new-learners', 'sandbox-starts', 'checks', 'sandboxes-per-learner', 'terminals-per-session'] as const;
export type RefusalReason = (typeof REASONS)[number];
// Plotted from the start, at zero, rather than from the first refusal.
for (const reason of REASONS) refusals.inc({ reason }, 0);

// A request an abuse limit turns away: answered 429, with Retry-After and a sentence the page shows.
export class Refusal extends Error {
  constructor(readonly reason: RefusalReason, message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}

// Every refusal is made here, so that each is counted for the operator's dashboard and logged with
// whom it turned away, however it is then answered (HTTP, terminal socket, `lab check`).
export function refuse(reason: RefusalReason, message: string, retryAfterSeconds: number, who: Record<string, string>) {
  refusals.inc({ reason });
  log.warn({ ...who, reason, retryAfterSeconds }, `refused: ${message}`);
  return new Refusal(reason, message, retryAfterSeconds);
}

// "12 seconds", "about 3 minutes": how long to wait, as the sentence says it.
export function waitOf(seconds: number) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `about ${Math.round(seconds / 60)} minutes`;
}
