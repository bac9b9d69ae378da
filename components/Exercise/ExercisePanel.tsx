'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { labApi } from '../Lab/api';
import { announceProgressChange, fetchProgress, type Criterion } from '../Progress/progress';
import { onTerminalActivity } from '../Terminal/activity';
import styles from './Exercise.module.css';
import { InlineText, Paragraphs } from '../InlineText';

interface CheckAnswer {
  passed: boolean;
  completed: boolean;
  results: Criterion[];
}

// Live checks wait for the terminal to settle after the learner's last Enter.
const LIVE_SETTLE_MS = 1500;

export default function ExercisePanel(props: { labId: string; exerciseId: string; title: string; task: string; criteria: string[] }) {
  const { labId, exerciseId, title, task, criteria } = props;
  const [completed, setCompleted] = useState(false);
  const [results, setResults] = useState<Criterion[] | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [hint, setHint] = useState<string | null>(null);
  const [solution, setSolution] = useState<string | null>(null);
  const busy = useRef(false);

  useEffect(() => {
    void fetchProgress().then((progress) => {
      const entry = progress.exercises[`${labId}/${exerciseId}`];
      if (!entry) return;
      setCompleted(entry.completed);
      if (entry.lastResults) setResults(entry.lastResults);
    });
  }, [labId, exerciseId]);

  const check = useCallback(
    async (trigger: 'button' | 'live') => {
      if (busy.current) return;
      busy.current = true;
      setChecking(true);
      try {
        const answer = await labApi.check<CheckAnswer>(labId, exerciseId, trigger);
        // A live check of a half-done task shows the criteria it has met; what it has not met yet
        // stays neutral (failure messages are for when the learner asks, with Check).
        setResults(trigger === 'button' || answer.passed ? answer.results : answer.results.filter((result) => result.passed));
        setCompleted(answer.completed);
        if (answer.passed) announceProgressChange();
        setError(null);
      } catch (failure) {
        if (trigger === 'button') setError((failure as Error).message);
      } finally {
        busy.current = false;
        setChecking(false);
      }
    },
    [labId, exerciseId],
  );

  useEffect(() => {
    if (!live || completed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = onTerminalActivity(labId, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void check('live'), LIVE_SETTLE_MS);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [live, completed, labId, check]);

  const reveal = async (kind: 'hint' | 'solution') => {
    if (kind === 'solution' && !confirm('Show the reference solution? Trying first teaches more; it is recorded that you looked.')) return;
    try {
      const answer = await labApi.reveal(labId, exerciseId, kind);
      (kind === 'hint' ? setHint : setSolution)(answer[kind]);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };

  const byName = new Map(results?.map((result) => [result.name, result]));
  return (
    <section className={styles.exercise} aria-label={`Exercise: ${title}`} data-exercise={`${labId}/${exerciseId}`} data-completed={completed}>
      <header className={styles.header}>
        <span className={styles.kicker}>Exercise</span>
        <h3 className={styles.title}>{title}</h3>
        {completed && <span className={styles.done} data-testid="exercise-complete">✓ Complete</span>}
      </header>
      <div className={styles.task}>
        <Paragraphs text={task} />
      </div>
      <ul className={styles.criteria} aria-label="What is checked">
        {criteria.map((name) => {
          const result = byName.get(name);
          const mark = result ? (result.passed ? '✓' : '✗') : '○';
          return (
            <li key={name} className={result ? (result.passed ? styles.pass : styles.fail) : undefined} data-criterion={name} data-passed={result?.passed ?? ''}>
              <span className={styles.mark} aria-hidden="true">{mark}</span>
              <span>
                <span className={styles.visuallyHidden}>{result ? (result.passed ? 'passed: ' : 'failed: ') : 'not yet: '}</span>
                {name}
                {result && !result.passed && (
                  <span className={styles.message}>
                    <InlineText text={result.message} />
                  </span>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {error && <p className={styles.error} role="alert">{error}</p>}
      <div className={styles.actions}>
        <button type="button" className={styles.primary} onClick={() => void check('button')} disabled={checking}>
          {checking ? 'Checking…' : 'Check'}
        </button>
        <label className={styles.live}>
          <input type="checkbox" checked={live} onChange={(event) => setLive(event.target.checked)} /> Check as I type
        </label>
        {hint === null && <button type="button" className={styles.secondary} onClick={() => void reveal('hint')}>Hint</button>}
        {solution === null && <button type="button" className={styles.secondary} onClick={() => void reveal('solution')}>Solution</button>}
      </div>
      {hint !== null && (
        <div className={styles.reveal}>
          <strong>Hint.</strong> <InlineText text={hint} />
        </div>
      )}
      {solution !== null && (
        <div className={styles.reveal}>
          <strong>Reference solution</strong>
          <pre><code>{solution}</code></pre>
        </div>
      )}
    </section>
  );
}
