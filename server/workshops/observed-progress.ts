import type { Db } from '../db/database.ts';
import { ProgressStore, type CriterionResult, type ExerciseRef, type Trigger } from '../db/progress.ts';
import type { WorkshopLive } from './live.ts';

// The progress store, telling the live grids each time a learner's progress changes: every check
// recorded, hint or solution seen, quiz answered. Whoever records progress (the page, `lab check`
// in the terminal) is heard without knowing about workshops.
export class ObservedProgressStore extends ProgressStore {
  constructor(db: Db, private readonly live: WorkshopLive) {
    super(db);
  }

  override recordAttempt(learnerId: string, ref: ExerciseRef, trigger: Trigger, passed: boolean, results: CriterionResult[]) {
    super.recordAttempt(learnerId, ref, trigger, passed, results);
    this.live.learnerChanged(learnerId);
  }

  override recordReveal(learnerId: string, ref: ExerciseRef, kind: 'hint' | 'solution') {
    super.recordReveal(learnerId, ref, kind);
    this.live.learnerChanged(learnerId);
  }

  override recordQuizAnswer(learnerId: string, quizId: string, question: number, choice: number, correct: boolean) {
    super.recordQuizAnswer(learnerId, quizId, question, choice, correct);
    this.live.learnerChanged(learnerId);
  }
}
