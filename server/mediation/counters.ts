import { installReader, parseSample, ratesBetween, UnreadableSample, type CounterUpdate, type Sample } from './counter-sampling.ts';
import type { Engine, SandboxProcess } from '../engine/engine.ts';
import type { Session } from '../sandboxes/sessions.ts';

const SAMPLE_EVERY_MS = 1000;
// A reload, or a second tab opening, comes back well within this: the reader and its history stay.
const GRACE_MS = 5000;
// What a page that starts watching gets at once: the last minute, so its sparklines start full.
const HISTORY_SAMPLES = 60;
// A sample of the course's labs is 1–3 KB; a line past this is a reader gone wrong (or faked).
const MAX_LINE_CHARS = 256 * 1024;
// Every command in a sandbox has a time limit; a page still watching after it simply gets a new reader.
const READER_LIFETIME_MS = 60 * 60 * 1000;

type Watcher = {
  onUpdate: (update: CounterUpdate) => void;
  // Resolves with why the counters ended for good (the page should not come back), or undefined.
  settle: (end: string | undefined) => void;
  fail: (error: unknown) => void;
};

// The live counters of sandboxes (the <Counters> panel of a chapter): one reader per sandbox,
// shared by every page of that learner that watches it, started by the first and stopped a few
// seconds after the last leaves, or when the session ends.
export class Counters {
  private readonly readers = new Map<string, Reader>();

  constructor(private readonly engine: Engine, private readonly graceMs = GRACE_MS) {}

  // Sends the session's counter rates to `onUpdate` once a second (the last minute first) until
  // `signal` aborts or the reader ends. Resolves with a reason when the counters ended for good
  // (the session ended); undefined means the page may watch again, which starts a new reader if
  // this one died (a learner who kills it gets it back). Rejects with SandboxGoneError when the
  // sandbox is not running.
  watch(session: Session, onUpdate: (update: CounterUpdate) => void, signal: AbortSignal): Promise<string | undefined> {
    let reader = this.readers.get(session.id);
    if (!reader) {
      const started: Reader = new Reader(this.engine, session, this.graceMs, () => {
        if (this.readers.get(session.id) === started) this.readers.delete(session.id);
      });
      this.readers.set(session.id, started);
      reader = started;
    }
    return reader.follow(onUpdate, signal);
  }

  // The session ended: whoever watches it is told why, and its reader stops.
  stop(sessionId: string, reason: string) {
    this.readers.get(sessionId)?.end({ reason });
  }
}

class Reader {
  private readonly watchers = new Set<Watcher>();
  private readonly history: CounterUpdate[] = [];
  private readonly process: SandboxProcess;
  private readonly ticker: NodeJS.Timeout;
  private previous?: Sample;
  // A sample asked for and not yet printed: a slow sandbox (its CPU quota spent) is not asked again meanwhile.
  private asked = false;
  private idle?: NodeJS.Timeout;
  private ended = false;

  constructor(engine: Engine, private readonly session: Session, private readonly graceMs: number, private readonly onEnd: () => void) {
    const command = installReader(session.sandbox.serviceDir, session.lab.counters ?? []);
    this.process = engine.spawn(session.sandbox.id, command, { timeoutMs: READER_LIFETIME_MS });
    this.process.stdout.setEncoding('utf8');
    let pending = '';
    this.process.stdout.on('data', (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        this.receive(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
      if (pending.length > MAX_LINE_CHARS) this.end({ reason: `The counters reader printed over ${MAX_LINE_CHARS / 1024} KiB without a line break and was stopped: reload the page to start it again.` });
    });
    // A reader that dies after it worked (killed by the learner, or its time limit) is started
    // again when the page comes back; one that never gave a sample would only fail again.
    this.process.exited.then(
      (code) => this.end({ reason: this.previous ? undefined : `The counters reader stopped (exit status ${code}) before its first sample: reload the page to try again.` }),
      (error: unknown) => this.end({ error }),
    );
    this.ticker = setInterval(() => this.ask(), SAMPLE_EVERY_MS);
    this.ask();
  }

  follow(onUpdate: (update: CounterUpdate) => void, signal: AbortSignal) {
    return new Promise<string | undefined>((resolve, reject) => {
      const watcher: Watcher = { onUpdate, settle: resolve, fail: reject };
      for (const update of this.history) onUpdate(update);
      this.watchers.add(watcher);
      clearTimeout(this.idle);
      const leave = () => {
        if (!this.watchers.delete(watcher)) return;
        resolve(undefined);
        if (this.watchers.size === 0) this.idle = setTimeout(() => this.end({ reason: undefined }), this.graceMs);
      };
      if (signal.aborted) leave();
      else signal.addEventListener('abort', leave, { once: true });
    });
  }

  end(outcome: { reason: string | undefined } | { error: unknown }) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.ticker);
    clearTimeout(this.idle);
    this.process.stop();
    this.onEnd();
    for (const watcher of this.watchers) {
      if ('error' in outcome) watcher.fail(outcome.error);
      else watcher.settle(outcome.reason);
    }
    this.watchers.clear();
  }

  private ask() {
    if (this.asked) return;
    this.asked = true;
    this.process.stdin.write('\n');
  }

  private receive(line: string) {
    this.asked = false;
    let sample: Sample;
    try {
      sample = parseSample(line, this.session.lab.counters ?? []);
    } catch (error) {
      // A line the learner's own tampering garbled costs them one second of their own panel.
      if (error instanceof UnreadableSample) return;
      throw error;
    }
    const update = ratesBetween(this.previous, sample);
    this.previous = sample;
    this.history.push(update);
    if (this.history.length > HISTORY_SAMPLES) this.history.shift();
    for (const watcher of this.watchers) watcher.onUpdate(update);
  }
}
