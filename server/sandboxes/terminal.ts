import type { IPty } from 'node-pty';
import type { WebSocket } from 'ws';
import { websocketBytes } from '../ops/metrics.ts';

// Recent output replayed to a browser that reconnects, so a reload lands on the same screen.
const SCROLLBACK_BYTES = 256 * 1024;
// Past this much output unsent to a slow browser, stop reading the pty: the shell then blocks on
// write, as it would on a real terminal, and a `yes` cannot grow the server's memory.
const PAUSE_ABOVE_BYTES = 1024 * 1024;
const RESUME_BELOW_BYTES = 128 * 1024;

export type ServerMessage =
  // The shell ended; `message` says why in a sentence (out of memory, killed, exited).
  | { type: 'exit'; code: number; message: string; sandboxGone: boolean }
  // The sandbox itself ended (idle, reset, the server stopping): the connection closes after this.
  | { type: 'ended'; message: string }
  // Something to tell the learner, after which the page reconnects as usual (a server restarting).
  | { type: 'notice'; message: string }
  | { type: 'error'; message: string }
  // An abuse limit turned the connection away; the page may try again after retryAfterSeconds.
  | { type: 'refused'; message: string; retryAfterSeconds: number };

// One shell in a sandbox (one terminal tab): the pty lives on while browsers come and go.
export class Terminal {
  private readonly clients = new Set<WebSocket>();
  private scrollback: Buffer[] = [];
  private scrollbackSize = 0;
  private unsentBytes = 0;
  private paused = false;
  exited = false;

  // `earlyOutput` is what the shell printed before this terminal took it over (a warm pool's shell
  // has drawn its prompt already): the first browser to attach gets it at once.
  // `explainExit` finds out why the shell ended, as the learner is told it.
  constructor(
    private readonly pty: IPty,
    private readonly onActivity: () => void,
    onExit: () => void,
    explainExit: (exitCode: number) => Promise<{ message: string; sandboxGone: boolean }>,
    earlyOutput?: Buffer,
  ) {
    if (earlyOutput?.length) this.remember(earlyOutput);
    pty.onData((data) => this.broadcast(Buffer.isBuffer(data) ? data : Buffer.from(data)));
    pty.onExit(({ exitCode }) => {
      this.exited = true;
      onExit();
      void explainExit(exitCode).then((why) => {
        this.exitNotice = { type: 'exit', code: exitCode, ...why };
        for (const client of this.clients) sendControl(client, this.exitNotice);
      });
    });
  }

  // Why the shell ended, for a browser that attaches afterwards.
  private exitNotice?: ServerMessage;

  attach(client: WebSocket) {
    this.clients.add(client);
    if (this.scrollbackSize > 0) this.send(client, Buffer.concat(this.scrollback));
    if (this.exitNotice) sendControl(client, this.exitNotice);
    client.on('close', () => this.clients.delete(client));
  }

  write(data: string) {
    this.onActivity();
    this.pty.write(data);
  }

  // The shell's screen size, which a read-only viewer copies so the picture matches.
  get size() {
    return { cols: this.pty.cols, rows: this.pty.rows };
  }

  resize(cols: number, rows: number) {
    this.pty.resize(cols, rows);
  }

  // Ends the shell, telling every browser why in a line on its screen: that the sandbox ended, or
  // (a notice) something after which the page reconnects.
  kill(why: string, kind: 'ended' | 'notice' = 'ended') {
    for (const client of this.clients) {
      sendControl(client, { type: kind, message: why });
      client.close(1000, 'sandbox ended');
    }
    if (!this.exited) this.pty.kill('SIGKILL');
  }

  private broadcast(chunk: Buffer) {
    this.remember(chunk);
    for (const client of this.clients) this.send(client, chunk);
  }

  private remember(chunk: Buffer) {
    this.scrollback.push(chunk);
    this.scrollbackSize += chunk.length;
    while (this.scrollbackSize > SCROLLBACK_BYTES && this.scrollback.length > 1) {
      this.scrollbackSize -= this.scrollback.shift()!.length;
    }
  }

  private send(client: WebSocket, chunk: Buffer) {
    if (client.readyState !== client.OPEN) return;
    this.unsentBytes += chunk.length;
    websocketBytes.inc({ direction: 'out' }, chunk.length);
    client.send(chunk, { binary: true }, () => {
      this.unsentBytes -= chunk.length;
      if (this.paused && this.unsentBytes < RESUME_BELOW_BYTES) {
        this.paused = false;
        this.pty.resume();
      }
    });
    if (!this.paused && this.unsentBytes > PAUSE_ABOVE_BYTES) {
      this.paused = true;
      this.pty.pause();
    }
  }
}

export function sendControl(client: WebSocket, message: ServerMessage) {
  if (client.readyState === client.OPEN) client.send(JSON.stringify(message));
}
