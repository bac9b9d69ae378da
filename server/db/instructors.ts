import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

export interface Instructor {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: string;
}

// An instructor stays signed in this long; signing in again starts a fresh session.
const SESSION_MS = 12 * 3600 * 1000;
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const columns = (table = 'instructors') => `${table}.id AS id, ${table}.name AS name, ${table}.is_admin = 1 AS isAdmin, ${table}.created_at AS createdAt`;
const asInstructor = (row: (Omit<Instructor, 'isAdmin'> & { isAdmin: number }) | undefined): Instructor | undefined =>
  row && { ...row, isAdmin: row.isAdmin === 1 };

// Instructor accounts and their sign-in sessions. The session token lives in the instructor's
// cookie; only its hash is stored, so a copy of the database signs nobody in.
export class InstructorStore {
  constructor(private readonly db: Db) {}

  add(name: string, passwordHash: string, isAdmin: boolean): Instructor {
    const instructor = { id: randomUUID(), name, isAdmin, createdAt: new Date().toISOString() };
    this.db
      .prepare(`INSERT INTO instructors (id, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)`)
      .run(instructor.id, name, passwordHash, isAdmin ? 1 : 0, instructor.createdAt);
    return instructor;
  }

  list(): Instructor[] {
    return (this.db.prepare(`SELECT ${columns()} FROM instructors ORDER BY name`).all() as Parameters<typeof asInstructor>[0][]).map((row) => asInstructor(row)!);
  }

  byName(name: string) {
    const row = this.db.prepare(`SELECT ${columns()}, password_hash AS passwordHash FROM instructors WHERE name = ?`).get(name) as
      | (Parameters<typeof asInstructor>[0] & { passwordHash: string })
      | undefined;
    return row && { instructor: asInstructor(row)!, passwordHash: row.passwordHash };
  }

  // Their workshops stay (an admin still sees them, and their grades); their sessions end.
  remove(name: string) {
    return this.db.prepare(`DELETE FROM instructors WHERE name = ?`).run(name).changes === 1;
  }

  // A new password also signs the instructor out everywhere.
  setPassword(name: string, passwordHash: string) {
    return this.db.transaction(() => {
      const found = this.byName(name);
      if (!found) return false;
      this.db.prepare(`UPDATE instructors SET password_hash = ? WHERE id = ?`).run(passwordHash, found.instructor.id);
      this.db.prepare(`DELETE FROM instructor_sessions WHERE instructor_id = ?`).run(found.instructor.id);
      return true;
    })();
  }

  startSession(instructorId: string) {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + SESSION_MS);
    this.db.prepare(`DELETE FROM instructor_sessions WHERE expires_at < ?`).run(new Date().toISOString());
    this.db.prepare(`INSERT INTO instructor_sessions (token_hash, instructor_id, expires_at) VALUES (?, ?, ?)`).run(hashToken(token), instructorId, expiresAt.toISOString());
    return { token, maxAgeSeconds: SESSION_MS / 1000 };
  }

  bySessionToken(token: string): Instructor | undefined {
    return asInstructor(
      this.db
        .prepare(`SELECT ${columns('i')} FROM instructor_sessions s JOIN instructors i ON i.id = s.instructor_id WHERE s.token_hash = ? AND s.expires_at > ?`)
        .get(hashToken(token), new Date().toISOString()) as Parameters<typeof asInstructor>[0],
    );
  }

  endSession(token: string) {
    this.db.prepare(`DELETE FROM instructor_sessions WHERE token_hash = ?`).run(hashToken(token));
  }
}
