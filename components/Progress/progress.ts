// The learner's progress as the server keeps it (GET /api/progress). Several components of a
// page ask at once; they share one request while it is in flight.

export interface Criterion {
  name: string;
  passed: boolean;
  message: string;
}

export interface ExerciseProgress {
  completed: boolean;
  attempts: number;
  lastResults: Criterion[] | null;
  hintSeen: boolean;
  solutionSeen: boolean;
}

export interface QuizAnswer {
  choice: number;
  correct: boolean;
}

export interface Progress {
  exercises: Record<string, ExerciseProgress>;
  quizzes: Record<string, Record<string, QuizAnswer>>;
}

const EMPTY: Progress = { exercises: {}, quizzes: {} };
let inFlight: Promise<Progress> | null = null;

export function fetchProgress(): Promise<Progress> {
  inFlight ??= fetch('/api/progress', { cache: 'no-store' })
    .then((response) => (response.ok ? (response.json() as Promise<Progress>) : EMPTY))
    .catch(() => EMPTY)
    .finally(() => (inFlight = null));
  return inFlight;
}

// Tells the other progress displays of the page that an exercise or a quiz changed.
const CHANGED = 'wirelab:progress-changed';

export function announceProgressChange() {
  window.dispatchEvent(new Event(CHANGED));
}

export function onProgressChange(listener: () => void) {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}
