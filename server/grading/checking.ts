import type { Exercise } from '../../labs/define-lab.ts';
import type { ProgressStore, Trigger } from '../db/progress.ts';
import type { Grader, Verdict } from './grader.ts';
import { checkSeconds } from '../ops/metrics.ts';
import type { Session } from '../sandboxes/sessions.ts';

// Checking an exercise for a learner: grading plus the record of it. The page's Check button,
// the live re-checks and `lab check` in the terminal all come through here, so they agree.
export class Checking {
  constructor(private readonly grader: Grader, private readonly progress: ProgressStore) {}

  async check(session: Session, exercise: Exercise, trigger: Trigger): Promise<Verdict & { completed: boolean }> {
    const ref = { labId: session.lab.id, exerciseId: exercise.id };
    const timer = checkSeconds.startTimer({ lab: session.lab.id, trigger });
    let verdict: Verdict;
    if (trigger === 'live') {
      // Live re-checks run the cheap checks first and the traffic-generating ones only once those pass.
      verdict = await this.grader.grade(session.sandbox.id, exercise, { liveOnly: true });
      const hasSlowChecks = exercise.checks.some((check) => check.live === false);
      if (verdict.passed && hasSlowChecks) verdict = await this.grader.grade(session.sandbox.id, exercise);
    } else {
      verdict = await this.grader.grade(session.sandbox.id, exercise);
    }
    // A live re-check that fails is the learner mid-way, not an attempt: only its success is kept.
    timer();
    if (trigger !== 'live' || verdict.passed) this.progress.recordAttempt(session.learnerId, ref, trigger, verdict.passed, verdict.results);
    return { ...verdict, completed: verdict.passed || this.progress.isCompleted(session.learnerId, ref) };
  }
}
