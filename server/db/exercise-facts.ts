import type { Db } from './database.ts';
import type { CriterionResult } from './progress.ts';

export interface ExerciseFacts {
  attempts: number;
  lastResults: CriterionResult[] | null;
  lastAttemptAt: string | null;
  passedAt: string | null;
  hintAt: string | null;
  solutionAt: string | null;
}

export interface LearnerFacts {
  // keyed by "<lab>/<exercise>"
  exercises: Map<string, ExerciseFacts>;
  // keyed by lab: when the learner's first sandbox of it started
  firstStarts: Map<string, string>;
  quizAnswers: { quizId: string; question: number; choice: number; correct: boolean }[];
  // the latest time anything of theirs was recorded: an attempt, a reveal, a sandbox in use
  lastActivityAt: string | null;
}

// One learner's progress with its times, as the live grid and the grade export read it.
export function learnerFacts(db: Db, learnerId: string): LearnerFacts {
  const exercises = new Map<string, ExerciseFacts>();
  const facts = (labId: string, exerciseId: string) => {
    const key = `${labId}/${exerciseId}`;
    let entry = exercises.get(key);
    if (!entry) exercises.set(key, (entry = { attempts: 0, lastResults: null, lastAttemptAt: null, passedAt: null, hintAt: null, solutionAt: null }));
    return entry;
  };
  const times: string[] = [];

  const attempts = db
    .prepare(
      `SELECT lab_id, exercise_id, COUNT(*) AS attempts, MAX(id) AS last_id, MAX(created_at) AS last_at
       FROM attempts WHERE learner_id = ? GROUP BY lab_id, exercise_id`,
    )
    .all(learnerId) as { lab_id: string; exercise_id: string; attempts: number; last_id: number; last_at: string }[];
  const resultsOf = db.prepare(`SELECT results FROM attempts WHERE id = ?`);
  for (const row of attempts) {
    const entry = facts(row.lab_id, row.exercise_id);
    entry.attempts = row.attempts;
    entry.lastAttemptAt = row.last_at;
    entry.lastResults = JSON.parse((resultsOf.get(row.last_id) as { results: string }).results) as CriterionResult[];
    times.push(row.last_at);
  }
  for (const row of db.prepare(`SELECT lab_id, exercise_id, completed_at FROM completions WHERE learner_id = ?`).all(learnerId) as { lab_id: string; exercise_id: string; completed_at: string }[]) {
    facts(row.lab_id, row.exercise_id).passedAt = row.completed_at;
  }
  for (const row of db.prepare(`SELECT lab_id, exercise_id, kind, first_at FROM reveals WHERE learner_id = ?`).all(learnerId) as { lab_id: string; exercise_id: string; kind: 'hint' | 'solution'; first_at: string }[]) {
    facts(row.lab_id, row.exercise_id)[row.kind === 'hint' ? 'hintAt' : 'solutionAt'] = row.first_at;
    times.push(row.first_at);
  }
  const firstStarts = new Map<string, string>();
  for (const row of db.prepare(`SELECT lab_id, MIN(created_at) AS first, MAX(last_active_at) AS last FROM lab_sessions WHERE learner_id = ? GROUP BY lab_id`).all(learnerId) as { lab_id: string; first: string; last: string }[]) {
    firstStarts.set(row.lab_id, row.first);
    times.push(row.last);
  }
  const quizAnswers = (
    db.prepare(`SELECT quiz_id AS quizId, question, choice, correct, answered_at FROM quiz_answers WHERE learner_id = ? ORDER BY quiz_id, question`).all(learnerId) as {
      quizId: string; question: number; choice: number; correct: number; answered_at: string;
    }[]
  ).map(({ answered_at, correct, ...answer }) => {
    times.push(answered_at);
    return { ...answer, correct: correct === 1 };
  });
  return { exercises, firstStarts, quizAnswers, lastActivityAt: times.length ? times.reduce((a, b) => (a > b ? a : b)) : null };
}
