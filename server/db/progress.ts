import type { Db } from './database.ts';

export type Trigger = 'button' | 'live' | 'terminal';

export interface CriterionResult {
  name: string;
  passed: boolean;
  message: string;
}

export interface ExerciseRef {
  labId: string;
  exerciseId: string;
}

const now = () => new Date().toISOString();

// Everything a learner has done that must outlive a reload or a restart:
// attempts, completions, hints and solutions seen, quiz answers.
export class ProgressStore {
  constructor(private readonly db: Db) {}

  ensureLearner(learnerId: string) {
    this.db
      .prepare(
        `INSERT INTO learners (id, created_at, last_seen_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      )
      .run(learnerId, now(), now());
  }

  recordAttempt(learnerId: string, ref: ExerciseRef, trigger: Trigger, passed: boolean, results: CriterionResult[]) {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO attempts (learner_id, lab_id, exercise_id, trigger, passed, results, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(learnerId, ref.labId, ref.exerciseId, trigger, passed ? 1 : 0, JSON.stringify(results), now());
      if (passed) this.markCompleted(learnerId, ref);
    })();
  }

  markCompleted(learnerId: string, ref: ExerciseRef) {
    this.db
      .prepare(`INSERT OR IGNORE INTO completions (learner_id, lab_id, exercise_id, completed_at) VALUES (?, ?, ?, ?)`)
      .run(learnerId, ref.labId, ref.exerciseId, now());
  }

  isCompleted(learnerId: string, ref: ExerciseRef) {
    return !!this.db
      .prepare(`SELECT 1 FROM completions WHERE learner_id = ? AND lab_id = ? AND exercise_id = ?`)
      .get(learnerId, ref.labId, ref.exerciseId);
  }

  recordReveal(learnerId: string, ref: ExerciseRef, kind: 'hint' | 'solution') {
    this.db
      .prepare(`INSERT OR IGNORE INTO reveals (learner_id, lab_id, exercise_id, kind, first_at) VALUES (?, ?, ?, ?, ?)`)
      .run(learnerId, ref.labId, ref.exerciseId, kind, now());
  }

  recordQuizAnswer(learnerId: string, quizId: string, question: number, choice: number, correct: boolean) {
    this.db
      .prepare(
        `INSERT INTO quiz_answers (learner_id, quiz_id, question, choice, correct, answered_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (learner_id, quiz_id, question) DO UPDATE SET
           choice = excluded.choice, correct = excluded.correct, answered_at = excluded.answered_at`,
      )
      .run(learnerId, quizId, question, choice, correct ? 1 : 0, now());
  }

  // The shape the pages read: keyed by "<lab>/<exercise>" and by quiz id.
  summary(learnerId: string) {
    const exercises: Record<string, { completed: boolean; attempts: number; lastResults: CriterionResult[] | null; hintSeen: boolean; solutionSeen: boolean }> = {};
    const entry = (labId: string, exerciseId: string) =>
      (exercises[`${labId}/${exerciseId}`] ??= { completed: false, attempts: 0, lastResults: null, hintSeen: false, solutionSeen: false });

    const attempts = this.db
      .prepare(
        `SELECT lab_id, exercise_id, COUNT(*) AS attempts,
                (SELECT results FROM attempts last WHERE last.learner_id = a.learner_id AND last.lab_id = a.lab_id
                   AND last.exercise_id = a.exercise_id ORDER BY last.id DESC LIMIT 1) AS last_results
         FROM attempts a WHERE learner_id = ? GROUP BY lab_id, exercise_id`,
      )
      .all(learnerId) as { lab_id: string; exercise_id: string; attempts: number; last_results: string }[];
    for (const row of attempts) {
      const e = entry(row.lab_id, row.exercise_id);
      e.attempts = row.attempts;
      e.lastResults = JSON.parse(row.last_results) as CriterionResult[];
    }
    for (const row of this.db.prepare(`SELECT lab_id, exercise_id FROM completions WHERE learner_id = ?`).all(learnerId) as { lab_id: string; exercise_id: string }[]) {
      entry(row.lab_id, row.exercise_id).completed = true;
    }
    for (const row of this.db.prepare(`SELECT lab_id, exercise_id, kind FROM reveals WHERE learner_id = ?`).all(learnerId) as { lab_id: string; exercise_id: string; kind: string }[]) {
      const e = entry(row.lab_id, row.exercise_id);
      if (row.kind === 'hint') e.hintSeen = true;
      else e.solutionSeen = true;
    }

    const quizzes: Record<string, Record<string, { choice: number; correct: boolean }>> = {};
    for (const row of this.db.prepare(`SELECT quiz_id, question, choice, correct FROM quiz_answers WHERE learner_id = ?`).all(learnerId) as { quiz_id: string; question: number; choice: number; correct: number }[]) {
      (quizzes[row.quiz_id] ??= {})[row.question] = { choice: row.choice, correct: row.correct === 1 };
    }
    return { exercises, quizzes };
  }
}
