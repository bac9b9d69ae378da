import type { WebSocket } from 'ws';
import { terminalInputPauses } from '../ops/metrics.ts';

// A few seconds of input at the full rate go through at once, so that a paste never waits.
const BURST_SECONDS = 4;

// Paces one terminal socket's input into its shell. Typing and pastes pass straight through; a
// client sending faster than `bytesPerSecond` for longer than the burst has its socket paused until
// the shell's share is earned again, so TCP pushes back on the sender and neither the pty's write
// queue nor the server's memory grows with the flood. Order is kept.
export class InputPacer {
  private readonly waiting: string[] = [];
  private allowance: number;
  private at = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly bytesPerSecond: number,
    private readonly deliver: (data: string) => void,
  ) {
    this.allowance = bytesPerSecond * BURST_SECONDS;
  }

  push(data: string) {
    if (this.waiting.length === 0 && this.spend(data)) return this.deliver(data);
    this.waiting.push(data);
    if (!this.socket.isPaused) {
      this.socket.pause();
      terminalInputPauses.inc();
    }
    this.scheduleDrain();
  }

  stop() {
    clearTimeout(this.timer);
    this.waiting.length = 0;
  }

  // A message goes when the allowance is positive, and may leave it in debt (a message can be
  // larger than the burst): the next one waits until the debt is paid off.
  private spend(data: string) {
    const now = Date.now();
    this.allowance = Math.min(this.bytesPerSecond * BURST_SECONDS, this.allowance + ((now - this.at) / 1000) * this.bytesPerSecond);
    this.at = now;
    if (this.allowance <= 0) return false;
    this.allowance -= Buffer.byteLength(data);
    return true;
  }

  private scheduleDrain() {
    if (this.timer) return;
    const waitMs = Math.max(10, Math.ceil((-this.allowance / this.bytesPerSecond) * 1000) + 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.waiting.length > 0 && this.spend(this.waiting[0])) this.deliver(this.waiting.shift()!);
      if (this.waiting.length > 0) this.scheduleDrain();
      else this.socket.resume();
    }, waitMs);
  }
}
