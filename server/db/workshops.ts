import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

export interface Workshop {
  id: string;
  instructorId: string | null;
  title: string;
  labs: string[];
  joinCode: string;
  startsAt: string | null;
  endsAt: string | null;
  createdAt: string;
  endedAt: string | null;
}

export interface Member {
  learnerId: string;
  displayName: string;
  joinedAt: string;
}

export interface WorkshopMessage {
  id: number;
  text: string;
  // null: sent to the whole class
  learnerId: string | null;
  sentAt: string;
}

type WorkshopRow = Omit<Workshop, 'labs'> & { labs: string };
const columns = (t = 'workshops') => `${t}.id AS id, ${t}.instructor_id AS instructorId, ${t}.title AS title, ${t}.labs AS labs,
  ${t}.join_code AS joinCode, ${t}.starts_at AS startsAt, ${t}.ends_at AS endsAt, ${t}.created_at AS createdAt, ${t}.ended_at AS endedAt`;
const asWorkshop = (row: WorkshopRow | undefined): Workshop | undefined => row && { ...row, labs: JSON.parse(row.labs) as string[] };
const now = () => new Date().toISOString();

// Workshops (cohorts), who joined each under which name, and what their instructor told them.
export class WorkshopStore {
  constructor(private readonly db: Db) {}

  // `newCode` is asked again in the unlikely case a code is already taken.
  create(fields: Pick<Workshop, 'instructorId' | 'title' | 'labs' | 'startsAt' | 'endsAt'>, newCode: () => string): Workshop {
    for (;;) {
      const workshop: Workshop = { id: randomUUID(), ...fields, joinCode: newCode(), createdAt: now(), endedAt: null };
      const taken = this.db.prepare(`SELECT 1 FROM workshops WHERE join_code = ?`).get(workshop.joinCode);
      if (taken) continue;
      this.db
        .prepare(
          `INSERT INTO workshops (id, instructor_id, title, labs, join_code, starts_at, ends_at, created_at)
           VALUES (@id, @instructorId, @title, @labs, @joinCode, @startsAt, @endsAt, @createdAt)`,
        )
        .run({ ...workshop, labs: JSON.stringify(workshop.labs) });
      return workshop;
    }
  }

  get(id: string) {
    return asWorkshop(this.db.prepare(`SELECT ${columns()} FROM workshops WHERE id = ?`).get(id) as WorkshopRow | undefined);
  }

  byCode(joinCode: string) {
    return asWorkshop(this.db.prepare(`SELECT ${columns()} FROM workshops WHERE join_code = ?`).get(joinCode) as WorkshopRow | undefined);
  }

  // An admin (instructorId null) sees every workshop.
  list(instructorId: string | null): Workshop[] {
    const rows = (instructorId === null
      ? this.db.prepare(`SELECT ${columns()} FROM workshops ORDER BY created_at DESC`).all()
      : this.db.prepare(`SELECT ${columns()} FROM workshops WHERE instructor_id = ? ORDER BY created_at DESC`).all(instructorId)) as WorkshopRow[];
    return rows.map((row) => asWorkshop(row)!);
  }

  memberCount(workshopId: string) {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM workshop_members WHERE workshop_id = ?`).get(workshopId) as { n: number }).n;
  }

  members(workshopId: string): Member[] {
    return this.db
      .prepare(`SELECT learner_id AS learnerId, display_name AS displayName, joined_at AS joinedAt FROM workshop_members WHERE workshop_id = ? ORDER BY joined_at`)
      .all(workshopId) as Member[];
  }

  member(workshopId: string, learnerId: string) {
    return this.db
      .prepare(`SELECT learner_id AS learnerId, display_name AS displayName, joined_at AS joinedAt FROM workshop_members WHERE workshop_id = ? AND learner_id = ?`)
      .get(workshopId, learnerId) as Member | undefined;
  }

  // Every workshop the learner belongs to, newest first.
  workshopsOf(learnerId: string) {
    return (
      this.db
        .prepare(
          `SELECT ${columns('w')}, m.display_name AS displayName FROM workshop_members m JOIN workshops w ON w.id = m.workshop_id
           WHERE m.learner_id = ? ORDER BY m.joined_at DESC`,
        )
        .all(learnerId) as (WorkshopRow & { displayName: string })[]
    ).map((row) => ({ workshop: asWorkshop(row)!, displayName: row.displayName }));
  }

  // Joining twice keeps the first name; a name another learner has gets the first free " (n)".
  join(workshopId: string, learnerId: string, name: string): Member {
    return this.db.transaction(() => {
      const existing = this.member(workshopId, learnerId);
      if (existing) return existing;
      const taken = new Set((this.db.prepare(`SELECT display_name AS name FROM workshop_members WHERE workshop_id = ?`).all(workshopId) as { name: string }[]).map((row) => row.name.toLowerCase()));
      let displayName = name;
      for (let n = 2; taken.has(displayName.toLowerCase()); n++) displayName = `${name} (${n})`;
      const member = { learnerId, displayName, joinedAt: now() };
      this.db.prepare(`INSERT INTO workshop_members (workshop_id, learner_id, display_name, joined_at) VALUES (?, ?, ?, ?)`).run(workshopId, learnerId, displayName, member.joinedAt);
      return member;
    })();
  }

  end(workshopId: string, endedAt: string, frozenGrades: unknown) {
    this.db.prepare(`UPDATE workshops SET ended_at = ?, frozen_grades = ? WHERE id = ? AND ended_at IS NULL`).run(endedAt, JSON.stringify(frozenGrades), workshopId);
  }

  frozenGrades(workshopId: string): unknown {
    const row = this.db.prepare(`SELECT frozen_grades AS grades FROM workshops WHERE id = ?`).get(workshopId) as { grades: string | null } | undefined;
    return row?.grades ? JSON.parse(row.grades) : undefined;
  }

  addMessage(workshopId: string, learnerId: string | null, text: string): WorkshopMessage {
    const sentAt = now();
    const { lastInsertRowid } = this.db.prepare(`INSERT INTO workshop_messages (workshop_id, learner_id, text, sent_at) VALUES (?, ?, ?, ?)`).run(workshopId, learnerId, text, sentAt);
    return { id: Number(lastInsertRowid), text, learnerId, sentAt };
  }

  // What a learner's page shows on load: the latest messages to the class or to them.
  recentMessages(workshopId: string, learnerId: string, limit = 5): WorkshopMessage[] {
    return (
      this.db
        .prepare(
          `SELECT id, text, learner_id AS learnerId, sent_at AS sentAt FROM workshop_messages
           WHERE workshop_id = ? AND (learner_id IS NULL OR learner_id = ?) ORDER BY id DESC LIMIT ?`,
        )
        .all(workshopId, learnerId, limit) as WorkshopMessage[]
    ).reverse();
  }
}
