import type { Db } from './database.ts';

export interface SessionRecord {
  id: string;
  learnerId: string;
  labId: string;
  sandboxId: string;
  createdAt: string;
  lastActiveAt: string;
}

// Lab sessions as the database remembers them, so that a restarted server can re-adopt the
// sandboxes that are still running and close the books on the ones that are not.
export class SessionRecords {
  constructor(private readonly db: Db) {}

  insert(record: SessionRecord) {
    this.db
      .prepare(
        `INSERT INTO lab_sessions (id, learner_id, lab_id, sandbox_id, status, created_at, last_active_at)
         VALUES (@id, @learnerId, @labId, @sandboxId, 'active', @createdAt, @lastActiveAt)`,
      )
      .run(record);
  }

  active(): SessionRecord[] {
    return this.db
      .prepare(
        `SELECT id, learner_id AS learnerId, lab_id AS labId, sandbox_id AS sandboxId, created_at AS createdAt,
                last_active_at AS lastActiveAt
         FROM lab_sessions WHERE status = 'active'`,
      )
      .all() as SessionRecord[];
  }

  touch(sessionId: string, at: Date) {
    this.db.prepare(`UPDATE lab_sessions SET last_active_at = ? WHERE id = ?`).run(at.toISOString(), sessionId);
  }

  end(sessionId: string, reason: string) {
    this.db
      .prepare(`UPDATE lab_sessions SET status = 'ended', ended_at = ?, end_reason = ? WHERE id = ? AND status = 'active'`)
      .run(new Date().toISOString(), reason, sessionId);
  }
}
