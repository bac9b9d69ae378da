// A few slots (host tracing: each bpftrace costs a second of CPU and ~100 MiB as it starts) shared
// fairly: a holder (a learner) keeps at most one slot while another holder waits, and a waiter is
// told how long, and why. A holder with no one else waiting may take every free slot.
export class FairSlots {
  private readonly held: { holder: string; endsAt: number }[] = [];
  private readonly waiting: { holder: string; durationMs: number; grant: (release: () => void) => void }[] = [];

  constructor(private readonly size: number) {}

  // Resolves with the slot's release once one is this holder's. `durationMs` is how long the holder
  // means to keep it (the estimate others are told); `tell` gets the sentence a waiter reads.
  async acquire(holder: string, durationMs: number, tell: (sentence: string) => void, signal?: AbortSignal): Promise<() => void> {
    if (this.mayTake(holder)) return this.take(holder, durationMs);
    tell(this.whyWait(holder));
    return new Promise((resolve, reject) => {
      const waiter = { holder, durationMs, grant: resolve };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', () => {
        const index = this.waiting.indexOf(waiter);
        if (index === -1) return;
        this.waiting.splice(index, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }

  private mayTake(holder: string) {
    if (this.held.length >= this.size) return false;
    return this.holds(holder) === 0 || !this.waiting.some((waiter) => waiter.holder !== holder);
  }

  private take(holder: string, durationMs: number) {
    const slot = { holder, endsAt: Date.now() + durationMs };
    this.held.push(slot);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.splice(this.held.indexOf(slot), 1);
      this.grantNext();
    };
  }

  // The first waiter that holds nothing goes first; then anyone, in order.
  private grantNext() {
    while (this.held.length < this.size && this.waiting.length > 0) {
      const index = this.waiting.findIndex((waiter) => this.holds(waiter.holder) === 0);
      const [next] = this.waiting.splice(index === -1 ? 0 : index, 1);
      next.grant(this.take(next.holder, next.durationMs));
    }
  }

  private holds(holder: string) {
    return this.held.filter((slot) => slot.holder === holder).length;
  }

  private whyWait(holder: string) {
    const own = this.holds(holder);
    const others = this.held.length - own;
    const soonest = Math.max(1, Math.ceil((Math.min(...this.held.map((slot) => slot.endsAt)) - Date.now()) / 1000));
    const otherHolders = new Set(this.held.filter((slot) => slot.holder !== holder).map((slot) => slot.holder)).size;
    const theirs = `${plural(others, 'trace')} of ${plural(otherHolders, 'other learner')}`;
    const whose = own === 0 ? theirs : others === 0 ? `your own ${plural(own, 'trace')}` : `your own ${plural(own, 'trace')} and ${theirs}`;
    const queued = this.waiting.length;
    return `(waiting for a tracing slot: this server runs ${this.size} trace${this.size === 1 ? '' : 's'} at a time and all are busy with ${whose}${
      queued ? `; ${queued} more ${queued === 1 ? 'trace waits' : 'traces wait'}` : ''
    }. Yours starts when one ends, in about ${soonest} s.)`;
  }
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
