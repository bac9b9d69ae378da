import { refuse } from './refusal.ts';

// A page opens one socket per host tab, and a learner may have the lab open in a few browser tabs;
// past the bound it is someone opening sockets for their own sake.
const RETRY_AFTER_SECONDS = 10;

export class TerminalConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly perSession: number) {}

  // Counts one more terminal socket of the session, or throws past the bound; returns how to uncount it.
  admit(sessionId: string, learnerId: string): () => void {
    const count = this.open.get(sessionId) ?? 0;
    if (count >= this.perSession) {
      throw refuse(
        'terminals-per-session',
        `This lab already has ${this.perSession} terminals open: close another browser tab showing it, then this one reconnects by itself.`,
        RETRY_AFTER_SECONDS,
        { learnerId, sessionId },
      );
    }
    this.open.set(sessionId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.open.get(sessionId)! - 1;
      if (left === 0) this.open.delete(sessionId);
      else this.open.set(sessionId, left);
    };
  }
}
