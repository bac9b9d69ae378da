import { once } from 'node:events';
import type { Lab } from '../../labs/define-lab.ts';
import type { Db } from '../db/database.ts';
import { learnerFacts } from '../db/exercise-facts.ts';
import type { Instructor } from '../db/instructors.ts';
import { HttpError } from '../http/json.ts';
import type { Member, Workshop, WorkshopStore } from '../db/workshops.ts';
import { END_REASONS } from '../sandboxes/end-reasons.ts';
import { CapacityError, ROOT_HOST, type Sessions } from '../sandboxes/sessions.ts';
import type { CatalogLab } from './catalog.ts';
import { describeWorkshop, gradeRows, type Grades } from './grades.ts';
import { gridColumns, gridRow, type GridSandbox } from './grid.ts';
import { newJoinCode } from './join-code.ts';
import type { Notice, WorkshopLive } from './live.ts';

// A burst of changes (a learner's live checks, a class pressing Check at once) reaches a grid as
// one update per learner at most this often, which keeps the 2 s promise with room to spare.
const COALESCE_MS = 100;
// Rows are sent again this often even when nothing was recorded, so "idle for N minutes" follows
// typing in the terminal, which is not progress.
const REFRESH_ROWS_MS = 20_000;
// Keeps a learner's notice stream open through proxies that close silent connections.
const PING_MS = 25_000;
// Pre-starting a lab's sandboxes for a whole class: this many at once, so the machine stays usable.
const WARM_CONCURRENCY = 4;

// What an instructor or learner asked for that cannot be: the API answers it with its status.
export class WorkshopError extends HttpError {}

// Everything an instructor does with a workshop, and what a learner's membership gives them, on
// top of the stores, the sandboxes and the live switchboard.
export class Workshops {
  constructor(
    private readonly db: Db,
    readonly store: WorkshopStore,
    private readonly sessions: Sessions,
    readonly live: WorkshopLive,
    readonly catalog: ReadonlyMap<string, CatalogLab>,
    private readonly labs: ReadonlyMap<string, Lab>,
  ) {}

  create(instructor: Instructor, fields: { title: string; labs: string[]; startsAt: string | null; endsAt: string | null }) {
    const unknown = fields.labs.filter((labId) => !this.catalog.has(labId));
    if (unknown.length) throw new WorkshopError(400, `No chapter of the course has the lab${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`);
    if (fields.startsAt && fields.endsAt && fields.endsAt <= fields.startsAt) throw new WorkshopError(400, 'The workshop must end after it starts.');
    const ordered = [...this.catalog.keys()].filter((labId) => fields.labs.includes(labId));
    return this.store.create({ ...fields, labs: ordered, instructorId: instructor.id }, newJoinCode);
  }

  // The same answer for a workshop that does not exist and one that is not theirs.
  visibleTo(instructor: Instructor, workshopId: string) {
    const workshop = this.store.get(workshopId);
    if (!workshop || (!instructor.isAdmin && workshop.instructorId !== instructor.id)) throw new WorkshopError(404, 'You have no workshop with that id.');
    return workshop;
  }

  list(instructor: Instructor) {
    return this.store.list(instructor.isAdmin ? null : instructor.id).map((workshop) => ({ ...workshop, learners: this.store.memberCount(workshop.id) }));
  }

  labsOf(workshop: Workshop) {
    return workshop.labs.flatMap((labId) => this.catalog.get(labId) ?? []);
  }

  // Why a learner cannot join now, or the workshop they can join.
  joinable(workshop: Workshop | undefined, code: string) {
    if (!workshop) throw new WorkshopError(404, `No workshop has the code ${code}: check it with your instructor.`);
    if (workshop.endedAt || (workshop.endsAt && workshop.endsAt < new Date().toISOString())) {
      throw new WorkshopError(410, `The workshop "${workshop.title}" has ended: it takes no new learners.`);
    }
    return workshop;
  }

  join(workshop: Workshop, learnerId: string, displayName: string) {
    const member = this.store.join(workshop.id, learnerId, displayName);
    this.live.learnerChanged(learnerId);
    return member;
  }

  // The workshop a learner is in now: the newest they joined that has not ended.
  currentOf(learnerId: string) {
    return this.store.workshopsOf(learnerId).find(({ workshop }) => !workshop.endedAt);
  }

  grid(workshop: Workshop) {
    const columns = gridColumns(this.labsOf(workshop));
    return {
      workshop: { ...describeWorkshop(workshop), labs: this.labsOf(workshop), startsAt: workshop.startsAt, endsAt: workshop.endsAt },
      columns,
      rows: this.store.members(workshop.id).map((member) => this.row(workshop, member)),
    };
  }

  private row(workshop: Workshop, member: Member) {
    const sandboxes = this.sandboxesOf(member.learnerId, workshop.labs);
    const row = gridRow(member, learnerFacts(this.db, member.learnerId), gridColumns(this.labsOf(workshop)), sandboxes.map(({ sandbox }) => sandbox), this.live.isWatched(member.learnerId));
    // Typing in a terminal is activity too, though it records nothing.
    for (const { lastActiveAt } of sandboxes) if (lastActiveAt > row.lastActivityAt) row.lastActivityAt = lastActiveAt;
    return row;
  }

  private sandboxesOf(learnerId: string, labIds: string[]) {
    return labIds.flatMap((labId) => {
      const session = this.sessions.find(learnerId, labId);
      if (!session) return [];
      const sandbox: GridSandbox = {
        labId,
        sessionId: session.id,
        hosts: [ROOT_HOST, ...(session.lab.hosts ?? [])],
        openHosts: [...session.terminals].filter(([, terminal]) => !terminal.exited).map(([host]) => host),
      };
      return [{ sandbox, lastActiveAt: session.lastActiveAt.toISOString() }];
    });
  }

  // The grid as Server-Sent Events: the whole grid first, then a learner's row each time their
  // progress or sandboxes change (and every row now and then, for idle times).
  async streamGrid(workshop: Workshop, send: (message: unknown) => void, signal: AbortSignal) {
    send({ type: 'grid', ...this.grid(workshop) });
    const members = new Set(this.store.members(workshop.id).map((member) => member.learnerId));
    const pending = new Set<string>();
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      flushTimer = undefined;
      for (const learnerId of pending) {
        const member = this.store.member(workshop.id, learnerId);
        if (member) send({ type: 'row', row: this.row(workshop, member) });
      }
      pending.clear();
    };
    const stop = this.live.onLearnerChange((learnerId) => {
      if (!members.has(learnerId)) {
        if (!this.store.member(workshop.id, learnerId)) return;
        members.add(learnerId);
      }
      pending.add(learnerId);
      flushTimer ??= setTimeout(flush, COALESCE_MS);
    });
    const refresh = setInterval(() => send({ type: 'rows', rows: this.store.members(workshop.id).map((member) => this.row(workshop, member)) }), REFRESH_ROWS_MS);
    try {
      if (!signal.aborted) await once(signal, 'abort');
    } finally {
      stop();
      clearInterval(refresh);
      clearTimeout(flushTimer);
    }
    return undefined;
  }

  // A learner's page in a workshop hears here about messages, resets and being watched.
  async streamNotices(learnerId: string, send: (message: unknown) => void, signal: AbortSignal) {
    send({ type: 'viewing', watching: this.live.isWatched(learnerId) } satisfies Notice);
    const stop = this.live.onNotice(learnerId, send);
    const ping = setInterval(() => send({ type: 'ping' }), PING_MS);
    try {
      if (!signal.aborted) await once(signal, 'abort');
    } finally {
      stop();
      clearInterval(ping);
    }
    return undefined;
  }

  member(workshop: Workshop, learnerId: string) {
    const member = this.store.member(workshop.id, learnerId);
    if (!member) throw new WorkshopError(404, 'No learner with that id is in this workshop.');
    return member;
  }

  private workshopLab(workshop: Workshop, labId: string) {
    const lab = this.labs.get(labId);
    if (!lab || !workshop.labs.includes(labId)) throw new WorkshopError(404, `This workshop does not cover a lab "${labId}".`);
    return lab;
  }

  // A fresh sandbox for the learner in place of the one they had, on their kept files: a stuck
  // sandbox is the trouble, not the learner's notes. Their progress is kept too.
  async resetSandbox(workshop: Workshop, learnerId: string, labId: string) {
    const lab = this.workshopLab(workshop, labId);
    this.member(workshop, learnerId);
    const existing = this.sessions.find(learnerId, lab.id);
    if (existing) await this.sessions.end(existing, END_REASONS.instructorReset);
    await this.sessions.open(learnerId, lab);
    this.live.notify(learnerId, { type: 'sandbox', labId, action: 'reset' });
  }

  async endSandbox(workshop: Workshop, learnerId: string, labId: string) {
    const lab = this.workshopLab(workshop, labId);
    this.member(workshop, learnerId);
    const existing = this.sessions.find(learnerId, lab.id);
    if (!existing) return false;
    await this.sessions.end(existing, END_REASONS.instructorEnd);
    this.live.notify(learnerId, { type: 'sandbox', labId, action: 'ended' });
    return true;
  }

  message(workshop: Workshop, learnerId: string | null, text: string) {
    if (learnerId) this.member(workshop, learnerId);
    const message = this.store.addMessage(workshop.id, learnerId, text);
    const to = learnerId ? [learnerId] : this.store.members(workshop.id).map((member) => member.learnerId);
    for (const recipient of to) this.live.notify(recipient, { type: 'message', message });
    return message;
  }

  // Starts a sandbox of the lab for every learner of the workshop who has none, ahead of time,
  // so that Start lab finds theirs running.
  async warm(workshop: Workshop, labId: string) {
    const lab = this.workshopLab(workshop, labId);
    const learners = this.store.members(workshop.id).map((member) => member.learnerId);
    const waiting = learners.filter((learnerId) => !this.sessions.find(learnerId, lab.id));
    let started = 0;
    let refused = 0;
    for (let i = 0; i < waiting.length; i += WARM_CONCURRENCY) {
      const outcomes = await Promise.allSettled(waiting.slice(i, i + WARM_CONCURRENCY).map((learnerId) => this.sessions.open(learnerId, lab)));
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') started++;
        else if (outcome.reason instanceof CapacityError) refused++;
        else throw outcome.reason;
      }
    }
    for (const learnerId of waiting) this.live.learnerChanged(learnerId);
    return { learners: learners.length, alreadyRunning: learners.length - waiting.length, started, refusedForCapacity: refused };
  }

  grades(workshop: Workshop): Grades {
    const frozen = this.store.frozenGrades(workshop.id) as Grades | undefined;
    if (frozen) return frozen;
    const labs = this.labsOf(workshop);
    return {
      workshop: describeWorkshop(workshop),
      exportedAt: new Date().toISOString(),
      frozen: false,
      rows: this.store.members(workshop.id).flatMap((member) => gradeRows(member, learnerFacts(this.db, member.learnerId), labs)),
    };
  }

  // Freezes the grades as they stand, then ends every sandbox the workshop's learners have of its labs.
  async end(workshop: Workshop) {
    if (workshop.endedAt) return this.store.get(workshop.id)!;
    const grades = this.grades(workshop);
    const endedAt = new Date().toISOString();
    this.store.end(workshop.id, endedAt, { ...grades, workshop: { ...grades.workshop, endedAt }, frozen: true });
    const members = this.store.members(workshop.id);
    const sessions = members.flatMap((member) => workshop.labs.flatMap((labId) => this.sessions.find(member.learnerId, labId) ?? []));
    await Promise.allSettled(sessions.map((session) => this.sessions.end(session, 'the workshop ended')));
    for (const member of members) this.live.notify(member.learnerId, { type: 'workshop-ended' });
    return this.store.get(workshop.id)!;
  }
}
