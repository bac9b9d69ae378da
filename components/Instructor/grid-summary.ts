import type { GridCell, GridColumn, GridRow } from './api';

export type SortOrder = 'progress' | 'activity' | 'name';

export interface ColumnSummary {
  passed: number;
  // the criterion that most learners not yet through are failing now: where the class is stuck
  stuckOn: { criterion: string; learners: number } | null;
}

export function summarize(column: GridColumn, rows: GridRow[]): ColumnSummary {
  const cells = rows.map((row) => row.cells[column.key]).filter((cell): cell is GridCell => !!cell);
  const failing = new Map<string, number>();
  for (const cell of cells) if (cell.failing) failing.set(cell.failing.criterion, (failing.get(cell.failing.criterion) ?? 0) + 1);
  const [top] = [...failing].sort(([, a], [, b]) => b - a);
  return { passed: cells.filter((cell) => cell.state === 'passed').length, stuckOn: top ? { criterion: top[0], learners: top[1] } : null };
}

// Most exercises passed first (then fewest attempts), or most recently active first, or by name.
export function sortRows(rows: GridRow[], order: SortOrder) {
  const attempts = (row: GridRow) => Object.values(row.cells).reduce((sum, cell) => sum + cell.attempts, 0);
  const byName = (a: GridRow, b: GridRow) => a.displayName.localeCompare(b.displayName);
  return [...rows].sort((a, b) => {
    if (order === 'progress') return b.passed - a.passed || attempts(a) - attempts(b) || byName(a, b);
    if (order === 'activity') return b.lastActivityAt.localeCompare(a.lastActivityAt) || byName(a, b);
    return byName(a, b);
  });
}

export function idleMinutes(row: GridRow, now: number) {
  return Math.floor((now - Date.parse(row.lastActivityAt)) / 60_000);
}

// What a cell says, in words: also its accessible name.
export function describeCell(cell: GridCell) {
  const extras = [cell.hintSeen && 'used the hint', cell.solutionSeen && 'viewed the solution'].filter(Boolean).join(', ');
  const base =
    cell.state === 'passed' ? `passed at ${new Date(cell.passedAt!).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
    : cell.state === 'working' ? `working, ${cell.attempts} attempt${cell.attempts === 1 ? '' : 's'}${cell.failing ? `, failing “${cell.failing.criterion}”` : ''}`
    : 'not started';
  return extras ? `${base}; ${extras}` : base;
}
