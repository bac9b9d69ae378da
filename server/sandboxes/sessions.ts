import { randomUUID } from 'node:crypto';
import type { Lab } from '../../labs/define-lab.ts';
import type { EndedSession, SessionRecords } from '../db/session-records.ts';
import type { Engine, Sandbox } from '../engine/engine.ts';
import { END_REASONS, endSentence } from './end-reasons.ts';
import { kernelStateOf } from './kernel-state.ts';
import { explainShellExit } from './shell-exit.ts';
import { startLabSandbox } from './lab-sandbox.ts';
import { refuse } from '../limits/refusal.ts';
import { log } from '../ops/log.ts';
import { Terminal } from './terminal.ts';
import type { WarmPool, WarmShell } from './warm-pool.ts';

export interface Session {
  id: string;
  learnerId: string;
  lab: Lab;
  sandbox: Sandbox;
  createdAt: Date;
  lastActiveAt: Date;
  terminals: Map<string, Terminal>;
  stopServices: () => void;
}

export interface SessionLimits {
  maxSandboxes: number;
  maxSandboxesPerLearner: number;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  // Kept files nobody has used for this long are deleted.
  filesRetentionMs: number;
}

export class CapacityError extends Error {
  constructor(readonly retryAfterMinutes: number) {
    super(`All lab sandboxes on this server are in use: try again in about ${retryAfterMinutes} minute${retryAfterMinutes === 1 ? '' : 's'}.`);
  }
}

// The root tab of every lab is a login shell in the sandbox's own network namespace.
export const ROOT_HOST = 'lab';
const REAP_EVERY_MS = 30_000;
const SWEEP_FILES_EVERY_MS = 3600_000;

// A tab for a host waits for its namespace instead of failing: in some labs the learner's first
// task is to create it.
const SHELL_IN_HOST = `
while ! ip netns pids "$1" >/dev/null 2>&1; do
  printf '\\r\\nThis tab is host %s, a network namespace that does not exist yet.\\r\\nCreate it (ip netns add %s) in the "lab" tab, then press Enter here.' "$1" "$1"
  read -r _
done
exec ip netns exec "$1" bash -l`;

// One sandbox per learner per lab: created on first open, reused on reload, reaped when idle or
// too old, and re-adopted (or swept) when the server restarts.
export class Sessions {
  private readonly byLearnerLab = new Map<string, Session>();
  private readonly byId = new Map<string, Session>();
  private readonly opening = new Map<string, Promise<Session>>();
  private readonly destroying = new Set<Promise<void>>();
  // Teardowns under way, by learner and lab: the next sandbox on the same files, or a download of
  // them, waits until the last one has let go of them.
  private readonly letGoOf = new Map<string, Promise<void>>();
  private reaper?: NodeJS.Timeout;
  private filesSweeper?: NodeJS.Timeout;

  constructor(
    private readonly engine: Engine,
    private readonly records: SessionRecords,
    private readonly limits: SessionLimits,
    private readonly labs: ReadonlyMap<string, Lab>,
    // Starts what the server offers a sandbox (the socket behind `lab check`); returns how to stop it.
    private readonly startServices: (session: Session) => () => void,
    // Ready sandboxes to hand out before starting one (server/sandboxes/warm-pool.ts).
    private readonly pool?: WarmPool,
  ) {}

  // Before serving: adopt the sandboxes a previous run left running, destroy everything else.
  async recover() {
    const records = new Map(this.records.active().map((record) => [record.sandboxId, record]));
    const leftovers: string[] = [];
    for (const sandbox of await this.engine.list()) {
      const record = records.get(sandbox.id);
      const lab = record && this.labs.get(record.labId);
      if (!sandbox.running || !record || !lab) {
        leftovers.push(sandbox.id);
        continue;
      }
      records.delete(sandbox.id);
      this.register({
        id: record.id,
        learnerId: record.learnerId,
        lab,
        sandbox,
        createdAt: new Date(record.createdAt),
        lastActiveAt: new Date(record.lastActiveAt),
        terminals: new Map(),
        stopServices: () => {},
      });
    }
    for (const record of records.values()) this.records.end(record.id, END_REASONS.goneAfterRestart);
    await inBatches(leftovers, 8, (id) => this.engine.destroy(id));
    const orphans = await this.engine.sweepOrphans();
    return { adopted: this.byId.size, swept: leftovers.length + orphans };
  }

  startReaper() {
    // A short idle timeout (a workshop's, a test's) is kept to within a quarter of itself.
    this.reaper = setInterval(() => void this.reap(), Math.min(REAP_EVERY_MS, this.limits.idleTimeoutMs / 4));
    this.reaper.unref();
    void this.sweepFiles();
    this.filesSweeper = setInterval(() => void this.sweepFiles(), SWEEP_FILES_EVERY_MS);
    this.filesSweeper.unref();
  }

  // Deletes the kept files of labs nobody has used for the retention period (no sandbox uses them now).
  async sweepFiles(now = Date.now()) {
    const inUse = new Set([...this.byId.values()].map((session) => volumeOf(session.learnerId, session.lab.id)));
    let deleted = 0;
    for (const volume of await this.engine.volumes()) {
      if (inUse.has(volume.name) || now - volume.lastUsedAt.getTime() <= this.limits.filesRetentionMs) continue;
      await this.engine.deleteVolume(volume.name).then(
        () => deleted++,
        (error: unknown) => log.error({ err: error, volume: volume.name }, 'could not delete kept files past their retention'),
      );
    }
    if (deleted) log.info(`deleted ${deleted} learner file set(s) unused for ${Math.round(this.limits.filesRetentionMs / 86_400_000)} days`);
    return deleted;
  }

  // How the learner's last sandbox of this lab ended, and whether their files are kept for the next.
  async lastEnded(learnerId: string, labId: string): Promise<(EndedSession & { filesKept: boolean }) | undefined> {
    const ended = this.records.lastEnded(learnerId, labId);
    await this.letGoOf.get(key(learnerId, labId));
    return ended && { ...ended, filesKept: await this.engine.hasVolume(volumeOf(learnerId, labId)) };
  }

  // Why a sandbox ended and what became of the learner's files, as the page and the terminal say it.
  sentenceFor(reason: string) {
    return endSentence(reason, this.limits);
  }

  // The learner's files of this lab, as a tar.gz; null when none are kept.
  async exportFiles(learnerId: string, labId: string) {
    await this.letGoOf.get(key(learnerId, labId));
    return this.engine.exportVolume(volumeOf(learnerId, labId));
  }

  find(learnerId: string, labId: string) {
    return this.byLearnerLab.get(key(learnerId, labId));
  }

  // Whether the learner has a sandbox of this lab, or one on its way.
  holds(learnerId: string, labId: string) {
    const k = key(learnerId, labId);
    return this.byLearnerLab.has(k) || this.opening.has(k);
  }

  // Why a new sandbox of this lab would be refused to this learner, before it costs anything: a full
  // server, or the learner's own cap across labs. Nothing for a lab they already hold.
  refusalFor(learnerId: string, labId: string): Error | undefined {
    if (this.holds(learnerId, labId)) return undefined;
    if (this.count >= this.limits.maxSandboxes) return new CapacityError(this.minutesUntilASandboxFrees());
    const held = this.labsHeldBy(learnerId);
    if (held.length >= this.limits.maxSandboxesPerLearner) return this.tooManyFor(learnerId, held);
    return undefined;
  }

  // Session ids travel in URLs; they only count together with the learner who owns them.
  findById(sessionId: string, learnerId: string) {
    const session = this.byId.get(sessionId);
    return session && session.learnerId === learnerId ? session : undefined;
  }

  get count() {
    return this.byId.size + this.opening.size;
  }

  // For the operator's metrics.
  get states() {
    return { starting: this.opening.size, running: this.byId.size, ending: this.destroying.size };
  }

  // Learners' sandboxes being started right now.
  get starting() {
    return this.opening.size;
  }

  open(learnerId: string, lab: Lab): Promise<Session> {
    const existing = this.find(learnerId, lab.id);
    if (existing) {
      this.touch(existing);
      return Promise.resolve(existing);
    }
    const k = key(learnerId, lab.id);
    const pending = this.opening.get(k);
    if (pending) return pending;
    const refusal = this.refusalFor(learnerId, lab.id);
    if (refusal) return Promise.reject(refusal);
    // Counted (count, starting) before it begins, so that the warm pool, asked inside, sees it.
    const opening = Promise.resolve().then(() => this.create(learnerId, lab)).finally(() => {
      this.opening.delete(k);
      this.pool?.refill();
    });
    this.opening.set(k, opening);
    return opening;
  }

  // A fresh sandbox on fresh files: the learner's files of this lab are wiped.
  async reset(learnerId: string, lab: Lab) {
    const existing = this.find(learnerId, lab.id);
    if (existing) await this.end(existing, END_REASONS.reset);
    const volume = volumeOf(learnerId, lab.id);
    await this.letGoOf.get(key(learnerId, lab.id));
    if (!this.holds(learnerId, lab.id) && (await this.engine.hasVolume(volume))) await this.engine.deleteVolume(volume);
    return this.open(learnerId, lab);
  }

  // Ends the sandbox's processes and kernel state. The learner's files are kept, except on their
  // own reset; what the kernel held is recorded first, so the page can name what a resumed sandbox lacks.
  async end(session: Session, reason: string) {
    if (this.byId.get(session.id) !== session) return;
    this.byId.delete(session.id);
    this.byLearnerLab.delete(key(session.learnerId, session.lab.id));
    const lostState = reason === END_REASONS.reset ? undefined : await kernelStateOf(this.engine, session.sandbox.id);
    // Recorded before any screen is told, so that a page asking why at once finds out.
    this.records.end(session.id, reason, lostState);
    sessionLog(session).info({ reason }, 'lab sandbox ended');
    session.stopServices();
    for (const terminal of session.terminals.values()) terminal.kill(this.sentenceFor(reason));
    const k = key(session.learnerId, session.lab.id);
    const destroyed = this.engine.destroy(session.sandbox.id);
    const settled = destroyed.catch(() => {});
    this.destroying.add(destroyed);
    this.letGoOf.set(k, settled);
    await destroyed.finally(() => {
      this.destroying.delete(destroyed);
      if (this.letGoOf.get(k) === settled) this.letGoOf.delete(k);
    });
  }

  // On a deliberate stop. With `keepRunning`, learners' sandboxes stay as they are for the next
  // start to re-adopt, as after a crash: only the shells (the server's own processes) go. Otherwise
  // every sandbox ends, its files kept. Either way sandboxes still starting are let finish, the
  // warm pool is drained and every teardown under way is seen through, so no mount is left behind.
  async stopServing({ keepRunning }: { keepRunning: boolean }) {
    clearInterval(this.reaper);
    clearInterval(this.filesSweeper);
    const draining = this.pool?.drain();
    await Promise.allSettled(this.opening.values());
    for (const session of this.byId.values()) this.records.touch(session.id, session.lastActiveAt);
    if (keepRunning) {
      for (const session of this.byId.values()) {
        session.stopServices();
        for (const terminal of session.terminals.values()) terminal.kill('The server is restarting; your sandbox keeps running and this terminal reconnects when the server is back.', 'notice');
      }
    } else {
      await inBatches([...this.byId.values()], 8, (session) => this.end(session, END_REASONS.serverStop));
    }
    await Promise.allSettled([...this.destroying, draining]);
  }

  touch(session: Session) {
    session.lastActiveAt = new Date();
  }

  terminal(session: Session, host: string, size: { cols: number; rows: number }) {
    const existing = session.terminals.get(host);
    if (existing && !existing.exited) return existing;
    return this.adoptShell(session, host, { pty: openShell(this.engine, session.sandbox, host, size), output: Buffer.alloc(0) });
  }

  private adoptShell(session: Session, host: string, shell: WarmShell) {
    const oomKillsBefore = this.engine.memory(session.sandbox.id).then((memory) => memory.oomKills, () => 0);
    const terminal = new Terminal(
      shell.pty,
      () => this.touch(session),
      () => {
        if (session.terminals.get(host) === terminal) session.terminals.delete(host);
      },
      (exitCode) => explainShellExit(this.engine, session.sandbox.id, exitCode, oomKillsBefore),
      shell.output,
    );
    session.terminals.set(host, terminal);
    return terminal;
  }

  private async create(learnerId: string, lab: Lab) {
    const id = randomUUID();
    const labels = { session: id, learner: learnerId, lab: lab.id };
    const volume = volumeOf(learnerId, lab.id);
    await this.letGoOf.get(key(learnerId, lab.id));
    // A learner with kept files resumes on them. Otherwise a warm sandbox becomes the learner's as
    // it is: its files become theirs, its labels say whose it is from now on, and the session
    // record below is what a restarted server re-adopts it by.
    const resuming = await this.engine.hasVolume(volume);
    const warm = resuming ? undefined : this.pool?.take(lab.id);
    if (warm) await this.engine.claimVolume(warm.sandbox.id, volume);
    else await this.pool?.makeRoom();
    const sandbox = warm ? { ...warm.sandbox, labels } : await startLabSandbox(this.engine, lab, labels, { volume, resuming });
    const now = new Date();
    const session: Session = { id, learnerId, lab, sandbox, createdAt: now, lastActiveAt: now, terminals: new Map(), stopServices: () => {} };
    this.records.insert({ id, learnerId, labId: lab.id, sandboxId: sandbox.id, createdAt: now.toISOString(), lastActiveAt: now.toISOString() });
    this.register(session);
    if (warm?.shell) this.adoptShell(session, ROOT_HOST, warm.shell);
    return session;
  }

  private register(session: Session) {
    this.byId.set(session.id, session);
    this.byLearnerLab.set(key(session.learnerId, session.lab.id), session);
    session.stopServices = this.startServices(session);
  }

  private async reap() {
    const now = Date.now();
    for (const session of [...this.byId.values()]) {
      this.records.touch(session.id, session.lastActiveAt);
      if (now - session.lastActiveAt.getTime() > this.limits.idleTimeoutMs) await this.end(session, END_REASONS.idle);
      else if (now - session.createdAt.getTime() > this.limits.maxLifetimeMs) await this.end(session, END_REASONS.lifetime);
    }
  }

  // The labs a learner has a sandbox of, or one starting.
  private labsHeldBy(learnerId: string) {
    const running = [...this.byId.values()].filter((session) => session.learnerId === learnerId).map((session) => session.lab.id);
    const starting = [...this.opening.keys()].filter((k) => k.startsWith(`${learnerId}/`)).map((k) => k.slice(learnerId.length + 1));
    return [...running, ...starting];
  }

  private tooManyFor(learnerId: string, labIds: string[]) {
    const theirs = [...this.byId.values()].filter((session) => session.learnerId === learnerId);
    const seconds = Math.max(1, Math.ceil((this.soonestEnd(theirs) - Date.now()) / 1000));
    return refuse(
      'sandboxes-per-learner',
      `You already have ${labIds.length} lab sandboxes running (${labIds.join(', ')}): end one with its End button, then start this one.`,
      seconds,
      { learnerId },
    );
  }

  private minutesUntilASandboxFrees() {
    return Math.max(1, Math.ceil((this.soonestEnd([...this.byId.values()]) - Date.now()) / 60_000));
  }

  // When the first of these sandboxes is due to be reaped (idle or too old).
  private soonestEnd(sessions: Session[]) {
    const ends = sessions.map((session) =>
      Math.min(session.lastActiveAt.getTime() + this.limits.idleTimeoutMs, session.createdAt.getTime() + this.limits.maxLifetimeMs),
    );
    return ends.length ? Math.min(...ends) : Date.now() + 60_000;
  }
}

// The shell of one terminal tab: a login shell for the lab's root tab, a shell in the host's
// namespace for the others.
export function openShell(engine: Engine, sandbox: Sandbox, host: string, size: { cols: number; rows: number }) {
  const command = host === ROOT_HOST ? ['bash', '-l'] : ['bash', '-c', SHELL_IN_HOST, 'host', host];
  return engine.attachTty(sandbox.id, command, { ...size, env: { WIRELAB_HOST: host } });
}

// Every line about one learner's sandbox carries whose it is and which, so one grep follows it.
export function sessionLog(session: Pick<Session, 'id' | 'learnerId' | 'lab' | 'sandbox'>) {
  return log.child({ learnerId: session.learnerId, sessionId: session.id, sandboxId: session.sandbox.id, labId: session.lab.id });
}

// The name of a learner's kept files of one lab.
export function volumeOf(learnerId: string, labId: string) {
  return `${learnerId}.${labId}`;
}

function key(learnerId: string, labId: string) {
  return `${learnerId}/${labId}`;
}

// One item's failure must not stop the others (a sandbox that will not die must not keep the
// rest alive), but it is reported.
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) {
    const outcomes = await Promise.allSettled(items.slice(i, i + size).map(work));
    for (const outcome of outcomes) if (outcome.status === 'rejected') log.error({ err: outcome.reason }, 'a sandbox could not be ended');
  }
}
