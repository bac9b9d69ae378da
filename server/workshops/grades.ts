import type { LearnerFacts } from '../db/exercise-facts.ts';
import type { Member, Workshop } from '../db/workshops.ts';
import type { CatalogLab } from './catalog.ts';

export interface GradeRow {
  learner: string;
  lab: string;
  exercise: string;
  passed: boolean;
  firstPassedAt: string | null;
  attempts: number;
  hintsViewed: number;
  solutionViewed: boolean;
  secondsFromFirstStartToPass: number | null;
  quizAnswers: { quiz: string; question: number; choice: number; correct: boolean }[];
}

export interface Grades {
  workshop: { id: string; title: string; joinCode: string; endedAt: string | null };
  exportedAt: string;
  // true once the workshop has ended: these are then the grades as they stood at its end
  frozen: boolean;
  rows: GradeRow[];
}

// One row per learner and exercise of the workshop, each with the answers to the quizzes of the
// chapter that holds the exercise.
export function gradeRows(member: Member, facts: LearnerFacts, labs: CatalogLab[]): GradeRow[] {
  return labs.flatMap((lab) =>
    lab.exercises.map((exercise) => {
      const record = facts.exercises.get(`${lab.id}/${exercise.id}`);
      const firstStart = facts.firstStarts.get(lab.id);
      const passedAt = record?.passedAt ?? null;
      return {
        learner: member.displayName,
        lab: lab.id,
        exercise: exercise.id,
        passed: passedAt !== null,
        firstPassedAt: passedAt,
        attempts: record?.attempts ?? 0,
        hintsViewed: record?.hintAt ? 1 : 0,
        solutionViewed: !!record?.solutionAt,
        secondsFromFirstStartToPass: passedAt && firstStart ? Math.max(0, Math.round((Date.parse(passedAt) - Date.parse(firstStart)) / 1000)) : null,
        quizAnswers: facts.quizAnswers
          .filter((answer) => lab.quizzes.includes(answer.quizId))
          .map(({ quizId, question, choice, correct }) => ({ quiz: quizId, question, choice, correct })),
      };
    }),
  );
}

export function describeWorkshop(workshop: Workshop) {
  return { id: workshop.id, title: workshop.title, joinCode: workshop.joinCode, endedAt: workshop.endedAt };
}

const CSV_COLUMNS = ['learner', 'lab', 'exercise', 'passed', 'first passed at', 'attempts', 'hints viewed', 'solution viewed', 'seconds from first start to pass', 'quiz answers'];

export function gradesCsv(grades: Grades) {
  const lines = [CSV_COLUMNS, ...grades.rows.map((row) => [
    row.learner,
    row.lab,
    row.exercise,
    row.passed ? 'yes' : 'no',
    row.firstPassedAt ?? '',
    String(row.attempts),
    String(row.hintsViewed),
    row.solutionViewed ? 'yes' : 'no',
    row.secondsFromFirstStartToPass === null ? '' : String(row.secondsFromFirstStartToPass),
    row.quizAnswers.map((answer) => `${answer.quiz} q${answer.question + 1}: choice ${answer.choice + 1} ${answer.correct ? 'right' : 'wrong'}`).join('; '),
  ])];
  return lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

// RFC 4180 quoting, and a cell a spreadsheet would run as a formula (=, +, -, @, or a tab or
// carriage return before one) is prefixed with a quote mark, as OWASP's CSV injection advice says.
export function csvCell(value: string) {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
