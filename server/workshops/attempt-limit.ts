// Failed attempts per client in a sliding window: what keeps join codes from being enumerated and
// instructor passwords from being guessed. Only failures count, so a class of 60 behind one
// address (a classroom NAT) can all join with the right code.
export class AttemptLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly maxFailures: number, private readonly windowMs: number) {}

  // Seconds until this client may try again, or 0 when it may now.
  retryAfterSeconds(client: string) {
    const recent = this.recent(client);
    return recent.length < this.maxFailures ? 0 : Math.ceil((recent[0] + this.windowMs - Date.now()) / 1000);
  }

  fail(client: string) {
    const recent = this.recent(client);
    recent.push(Date.now());
    this.failures.set(client, recent);
  }

  private recent(client: string) {
    const since = Date.now() - this.windowMs;
    const recent = (this.failures.get(client) ?? []).filter((at) => at > since);
    if (recent.length === 0) this.failures.delete(client);
    return recent;
  }
}
