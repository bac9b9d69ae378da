'use client';

import styles from './Progress.module.css';
import { useProgress } from './useProgress';

// "2 of 4 exercises done" with a bar, for a chapter's exercises ("lab/exercise" keys).
export default function ExerciseCount({ exercises }: { exercises: string[] }) {
  const progress = useProgress();
  if (exercises.length === 0) return null;
  const done = progress ? exercises.filter((key) => progress.exercises[key]?.completed).length : 0;
  return (
    <div className={styles.count} data-testid="exercise-count" aria-live="polite">
      <progress className={styles.bar} max={exercises.length} value={done} aria-label="Exercises completed" />
      <span>
        {progress ? `${done} of ${exercises.length}` : `${exercises.length}`} exercise{exercises.length === 1 ? '' : 's'}
        {progress && done === exercises.length ? ' — all done ✓' : progress ? ' done' : ''}
      </span>
    </div>
  );
}
