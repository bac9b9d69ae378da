import type { CriterionResult } from '../db/progress.ts';
import type { LearnerFacts } from '../db/exercise-facts.ts';
import type { Member } from '../db/workshops.ts';
import type { CatalogLab } from './catalog.ts';

export interface GridColumn {
  key: string;
  labId: string;
  exerciseId: string;
  title: string;
  labTitle: string;
  criteria: string[];
}

export interface GridCell {
  state: 'not-started' | 'working' | 'passed';
  attempts: number;
  // the first criterion that failed in the latest check, while the exercise is not passed
  failing: { criterion: string; message: string } | null;
  lastResults: CriterionResult[] | null;
  hintSeen: boolean;
  solutionSeen: boolean;
  startedAt: string | null;
  passedAt: string | null;
}

export interface GridSandbox {
  labId: string;
  sessionId: string;
  hosts: string[];
  // the host tabs with a shell open now: what a read-only view can attach to
  openHosts: string[];
}

export interface GridRow {
  learnerId: string;
  displayName: string;
  joinedAt: string;
  lastActivityAt: string;
  passed: number;
  watched: boolean;
  sandboxes: GridSandbox[];
  cells: Record<string, GridCell>;
}

export function gridColumns(labs: CatalogLab[]): GridColumn[] {
  return labs.flatMap((lab) =>
    lab.exercises.map((exercise) => ({
      key: `${lab.id}/${exercise.id}`,
      labId: lab.id,
      exerciseId: exercise.id,
      title: exercise.title,
      labTitle: lab.title,
      criteria: exercise.criteria,
    })),
  );
}

// One learner's row of the grid: a cell per exercise, and what they have running now.
export function gridRow(member: Member, facts: LearnerFacts, columns: GridColumn[], sandboxes: GridSandbox[], watched: boolean): GridRow {
  const cells: Record<string, GridCell> = {};
  for (const column of columns) {
    const exercise = facts.exercises.get(column.key);
    const startedAt = facts.firstStarts.get(column.labId) ?? null;
    const running = sandboxes.some((sandbox) => sandbox.labId === column.labId);
    const failed = exercise?.passedAt ? undefined : exercise?.lastResults?.find((result) => !result.passed);
    cells[column.key] = {
      state: exercise?.passedAt ? 'passed' : exercise || startedAt || running ? 'working' : 'not-started',
      attempts: exercise?.attempts ?? 0,
      failing: failed ? { criterion: failed.name, message: failed.message } : null,
      lastResults: exercise?.lastResults ?? null,
      hintSeen: !!exercise?.hintAt,
      solutionSeen: !!exercise?.solutionAt,
      startedAt,
      passedAt: exercise?.passedAt ?? null,
    };
  }
  const activity = [member.joinedAt, facts.lastActivityAt].filter((time): time is string => !!time);
  return {
    learnerId: member.learnerId,
    displayName: member.displayName,
    joinedAt: member.joinedAt,
    lastActivityAt: activity.reduce((a, b) => (a > b ? a : b)),
    passed: Object.values(cells).filter((cell) => cell.state === 'passed').length,
    watched,
    sandboxes,
    cells,
  };
}
