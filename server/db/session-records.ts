import type { Db } from './database.ts';

export interface SessionRecord {
  id: string;
  learnerId: string;
  labId: string;
  sandboxId: string;
  createdAt: string;
  lastActiveAt: string;
}

// What a sandbox held in its kernel, by kind ("network namespaces": ["red", "blue"]).
export type KernelState = Record<string, string[]>;

export interface EndedSession {
  endedAt: string;
  reason: string;
  lostState?: KernelState;
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

  end(sessionId: string, reason: string, lostState?: KernelState) {
    this.db
      .prepare(`UPDATE lab_sessions SET status = 'ended', ended_at = ?, end_reason = ?, lost_state = ? WHERE id = ? AND status = 'active'`)
      .run(new Date().toISOString(), reason, lostState ? JSON.stringify(lostState) : null, sessionId);
  }

  // How the learner's last sandbox of this lab ended, if it did.
  lastEnded(learnerId: string, labId: string): EndedSession | undefined {
    const row = this.db
      .prepare(
        `SELECT ended_at AS endedAt, end_reason AS reason, lost_state AS lostState FROM lab_sessions
         WHERE learner_id = ? AND lab_id = ? AND status = 'ended' ORDER BY ended_at DESC LIMIT 1`,
      )
      .get(learnerId, labId) as { endedAt: string; reason: string; lostState: string | null } | undefined;
    return row && { endedAt: row.endedAt, reason: row.reason, lostState: row.lostState ? (JSON.parse(row.lostState) as KernelState) : undefined };
  }
}
