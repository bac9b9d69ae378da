'use client';

import { useState } from 'react';
import Terminal from '../Terminal';
import { instructorApi, type GridColumn, type GridRow } from './api';
import styles from './Instructor.module.css';

// One learner, looked at closely: the last check of each exercise with its failing messages, a
// read-only view of each of their terminals, and what the instructor can do for them.
export default function LearnerPanel({ workshopId, row, columns, onClose }: { workshopId: string; row: GridRow; columns: GridColumn[]; onClose: () => void }) {
  const [watching, setWatching] = useState<{ labId: string; host: string } | null>(null);
  const [message, setMessage] = useState('');
  const [status, setStatus] = useState<string | null>(null);

  const act = async (labId: string, action: 'reset' | 'end') => {
    const question = action === 'reset'
      ? `Reset ${row.displayName}'s sandbox of ${labId}? It is destroyed and a fresh one starts; their page says you reset it. Their progress is kept.`
      : `End ${row.displayName}'s sandbox of ${labId}? Their page says you ended it. Their progress is kept.`;
    if (!confirm(question)) return;
    setWatching(null);
    try {
      await instructorApi.sandbox(workshopId, row.learnerId, labId, action);
      setStatus(action === 'reset' ? `Reset ${labId}.` : `Ended ${labId}.`);
    } catch (failure) {
      setStatus((failure as Error).message);
    }
  };
  const send = async () => {
    try {
      await instructorApi.message(workshopId, message, row.learnerId);
      setMessage('');
      setStatus('Message sent.');
    } catch (failure) {
      setStatus((failure as Error).message);
    }
  };

  return (
    <section className={styles.learner} aria-label={`Learner ${row.displayName}`} data-testid="learner-panel">
      <header className={styles.pageHeader}>
        <h2>{row.displayName}</h2>
        <button type="button" className={styles.secondary} onClick={onClose}>Close</button>
      </header>
      {columns.map((column) => {
        const cell = row.cells[column.key];
        return (
          <div key={column.key} className={styles.checks}>
            <h3>{column.title}</h3>
            {cell?.lastResults ? (
              <ul>
                {cell.lastResults.map((result) => (
                  <li key={result.name} className={result.passed ? styles.pass : styles.fail}>
                    {result.passed ? '✓' : '✗'} {result.name}
                    {!result.passed && <span className={styles.muted}> — {result.message}</span>}
                  </li>
                ))}
              </ul>
            ) : (
              <p className={styles.muted}>No check yet.</p>
            )}
          </div>
        );
      })}
      <h3>Sandboxes</h3>
      {row.sandboxes.length === 0 && <p className={styles.muted}>No sandbox running.</p>}
      {row.sandboxes.map((sandbox) => (
        <div key={sandbox.sessionId} className={styles.sandbox}>
          <div className={styles.sandboxActions}>
            <strong>{sandbox.labId}</strong>
            {sandbox.hosts.map((host) => (
              <button key={host} type="button" className={styles.secondary} aria-pressed={watching?.labId === sandbox.labId && watching.host === host}
                onClick={() => setWatching({ labId: sandbox.labId, host })}>
                Watch {host}
              </button>
            ))}
            <button type="button" className={styles.secondary} onClick={() => void act(sandbox.labId, 'reset')}>Reset sandbox</button>
            <button type="button" className={styles.secondary} onClick={() => void act(sandbox.labId, 'end')}>End sandbox</button>
          </div>
          {watching?.labId === sandbox.labId && (
            <div className={styles.watch} data-testid="watched-terminal">
              <p className={styles.muted}>Read-only: {row.displayName} sees that you are watching. Their {watching.host} shell, as they see it:</p>
              <Terminal key={`${sandbox.sessionId}/${watching.host}`} labId={sandbox.labId} sessionId={sandbox.sessionId} host={watching.host} active
                watchPath={instructorApi.terminalPath(workshopId, row.learnerId, sandbox.labId)} />
            </div>
          )}
        </div>
      ))}
      <form className={styles.inline} onSubmit={(event) => { event.preventDefault(); void send(); }}>
        <input value={message} onChange={(event) => setMessage(event.target.value)} maxLength={500} placeholder={`A message to ${row.displayName}`} aria-label={`Message to ${row.displayName}`} required />
        <button type="submit" className={styles.secondary}>Send</button>
      </form>
      {status && <p className={styles.muted} role="status">{status}</p>}
    </section>
  );
}
