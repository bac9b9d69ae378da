import type { IDisposable, IPty } from 'node-pty';
import type { Lab } from '../../labs/define-lab.ts';
import type { WarmPoolSizes } from '../config.ts';
import type { Engine, Sandbox } from '../engine/engine.ts';
import { startLabSandbox } from './lab-sandbox.ts';
import { log } from '../ops/log.ts';
import { memAvailable } from './mem-available.ts';
import { warmPoolSandboxes } from '../ops/metrics.ts';

// Sandboxes filled at once: each fill is a `runc run` and a lab setup, and the machine's cores
// belong to the learners first.
const FILL_CONCURRENCY = 2;
// A pool that could not fill (no room, no memory, a failed setup) tries again this often.
const RETRY_EVERY_MS = 15_000;
// A warm shell that has not drawn its prompt by then is treated as a failed fill.
const PROMPT_TIMEOUT_MS = 10_000;
const WARM_SHELL_SIZE = { cols: 80, rows: 24 };
// After a hand-over the learner's browser opens the terminal: the refill waits this long so that
// its `runc run` and setup do not take the cores from under that first prompt.
const QUIET_AFTER_HANDOVER_MS = 1000;

// A login shell started in a warm sandbox before anyone asked for it, with what it printed (its prompt).
export interface WarmShell {
  pty: IPty;
  output: Buffer;
}

export interface WarmSandbox {
  sandbox: Sandbox;
  // Gone if the shell exited while the sandbox waited; the learner's terminal then starts one as usual.
  shell?: WarmShell;
}

interface Filled {
  sandbox: Sandbox;
  pty: IPty;
  output: Buffer[];
  exited: boolean;
  listeners: IDisposable[];
}

export interface PoolRoom {
  maxSandboxes: number;
  // Sandboxes of learners, running or being started: the pool only ever takes what they leave.
  inUse: () => number;
  // True while a learner's own sandbox is being started: fills wait, so the learner gets the cores.
  startsWaiting: () => boolean;
  // MemAvailable the pool leaves for learners' sandboxes to grow into.
  memoryHeadroomBytes: number;
}

// Ready sandboxes of the labs learners start most, each with its setup run and a login shell at its
// prompt, so that Start lab is a hand-over instead of a `runc run`, a setup and a `runc exec`.
// Filled in the background, never past the sandbox cap or the memory headroom, and paused while
// learners' sandboxes start. Warm sandboxes have no session record, so a server that crashes
// leaves them to the next start's sweep (Sessions.recover); a stop destroys them (drain).
export class WarmPool {
  private readonly ready = new Map<string, Filled[]>();
  private readonly fillingByLab = new Map<string, number>();
  private readonly fills = new Set<Promise<void>>();
  private filling = 0;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private quietUntil = 0;
  private wanted = new Map<string, number>();

  constructor(
    private readonly engine: Engine,
    private readonly labs: ReadonlyMap<string, Lab>,
    private readonly sizes: WarmPoolSizes,
    private readonly room: PoolRoom,
    private readonly startShell: (sandbox: Sandbox, size: { cols: number; rows: number }) => IPty,
  ) {
    const unknown = Object.keys(sizes.perLab).filter((labId) => !labs.has(labId));
    if (unknown.length) {
      throw new Error(`wirelab: WIRELAB_WARM_POOL names ${unknown.map((id) => `"${id}"`).join(', ')}, which is not a lab: the labs are ${[...labs.keys()].join(', ')}`);
    }
  }

  // Starts filling, for the labs this machine can run.
  start(canRun: (lab: Lab) => boolean) {
    this.wanted = new Map(
      [...this.labs.values()].filter(canRun).map((lab) => [lab.id, this.sizes.perLab[lab.id] ?? this.sizes.others] as const).filter(([, count]) => count > 0),
    );
    this.retry = setInterval(() => this.refill(), RETRY_EVERY_MS);
    this.retry.unref();
    this.refill();
  }

  // Sandboxes the pool holds, ready or being filled: they count against the sandbox cap.
  get size() {
    return [...this.ready.values()].reduce((sum, list) => sum + list.length, 0) + this.filling;
  }

  readyCount(labId: string) {
    return this.ready.get(labId)?.length ?? 0;
  }

  // A ready sandbox of this lab, now the caller's to label and own; undefined if there is none.
  take(labId: string): WarmSandbox | undefined {
    const filled = this.ready.get(labId)?.shift();
    if (!filled) return undefined;
    this.publish(labId);
    for (const listener of filled.listeners) listener.dispose();
    this.quietUntil = Date.now() + QUIET_AFTER_HANDOVER_MS;
    setTimeout(() => this.refill(), QUIET_AFTER_HANDOVER_MS).unref();
    return { sandbox: filled.sandbox, shell: filled.exited ? undefined : { pty: filled.pty, output: Buffer.concat(filled.output) } };
  }

  // A learner needs a sandbox the pool cannot give, and the pool holds the last free places under
  // the cap: one warm sandbox goes (the most plentiful lab's), and the learner gets its place.
  async makeRoom() {
    if (this.room.inUse() + this.size <= this.room.maxSandboxes) return;
    const [labId, list] = [...this.ready].sort(([, a], [, b]) => b.length - a.length)[0] ?? [];
    const victim = list?.pop();
    if (!victim) return;
    this.publish(labId);
    await this.discard(victim);
  }

  // Starts as many fills as there is room for; called whenever room may have appeared.
  refill() {
    while (this.canFill()) {
      const lab = this.mostWanted();
      if (!lab) return;
      this.filling++;
      this.fillingByLab.set(lab.id, (this.fillingByLab.get(lab.id) ?? 0) + 1);
      const fill = this.fill(lab).finally(() => {
        this.filling--;
        this.fillingByLab.set(lab.id, this.fillingByLab.get(lab.id)! - 1);
        this.fills.delete(fill);
        this.refill();
      });
      this.fills.add(fill);
    }
  }

  // On a stop: no more fills; those under way finish, then every warm sandbox is destroyed.
  async drain() {
    this.stopped = true;
    clearInterval(this.retry);
    await Promise.allSettled([...this.fills]);
    const all = [...this.ready.values()].flat();
    const labIds = [...this.ready.keys()];
    this.ready.clear();
    for (const labId of labIds) this.publish(labId);
    await Promise.allSettled(all.map((filled) => this.discard(filled)));
  }

  private canFill() {
    return (
      !this.stopped &&
      Date.now() >= this.quietUntil &&
      this.filling < FILL_CONCURRENCY &&
      !this.room.startsWaiting() &&
      this.room.inUse() + this.size < this.room.maxSandboxes &&
      memAvailable() >= this.room.memoryHeadroomBytes
    );
  }

  // The lab furthest below its wanted count.
  private mostWanted() {
    let best: { lab: Lab; missing: number } | undefined;
    for (const [labId, wanted] of this.wanted) {
      const missing = wanted - this.readyCount(labId) - (this.fillingByLab.get(labId) ?? 0);
      if (missing > 0 && (!best || missing > best.missing)) best = { lab: this.labs.get(labId)!, missing };
    }
    return best?.lab;
  }

  private async fill(lab: Lab) {
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await startLabSandbox(this.engine, lab, { pool: 'warm' });
      const filled = await this.warmShell(sandbox);
      if (this.stopped) return void (await this.discard(filled));
      this.ready.set(lab.id, [...(this.ready.get(lab.id) ?? []), filled]);
      this.publish(lab.id);
    } catch (error) {
      log.error({ labId: lab.id, err: error }, `the warm pool could not prepare a sandbox (it tries again in ${RETRY_EVERY_MS / 1000} s)`);
      if (sandbox) await this.engine.destroy(sandbox.id).catch(() => {});
    }
  }

  // The shell a learner's first terminal tab would start, started now; ready once its prompt is out.
  private warmShell(sandbox: Sandbox) {
    const pty = this.startShell(sandbox, WARM_SHELL_SIZE);
    const filled: Filled = { sandbox, pty, output: [], exited: false, listeners: [] };
    return new Promise<Filled>((resolve, reject) => {
      const timer = setTimeout(() => {
        pty.kill('SIGKILL');
        reject(new Error(`its login shell drew no prompt within ${PROMPT_TIMEOUT_MS / 1000} s`));
      }, PROMPT_TIMEOUT_MS);
      filled.listeners.push(
        pty.onData((chunk) => {
          filled.output.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
          clearTimeout(timer);
          resolve(filled);
        }),
        pty.onExit(() => {
          filled.exited = true;
          clearTimeout(timer);
          reject(new Error('its login shell exited before drawing a prompt'));
        }),
      );
    });
  }

  // The operator's gauge of ready sandboxes (server/ops/metrics.ts).
  private publish(labId: string) {
    warmPoolSandboxes.set({ lab: labId }, this.readyCount(labId));
  }

  private async discard(filled: Filled) {
    for (const listener of filled.listeners) listener.dispose();
    if (!filled.exited) filled.pty.kill('SIGKILL');
    await this.engine.destroy(filled.sandbox.id);
  }
}
