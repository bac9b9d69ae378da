'use client';

import { useEffect, useState } from 'react';
import { instructorApi, type Grid, type GridEvent } from './api';
import { describeCell, idleMinutes, sortRows, summarize, type SortOrder } from './grid-summary';
import styles from './Instructor.module.css';
import LearnerPanel from './LearnerPanel';
import { useInstructor } from './useInstructor';

// /instructor/workshops/<id>: the class at a glance, kept live by the server's events: a row per
// learner, a column per exercise, where each is, and where the class is stuck.
export default function WorkshopGrid({ workshopId }: { workshopId: string }) {
  const instructor = useInstructor();
  const [grid, setGrid] = useState<Grid | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [order, setOrder] = useState<SortOrder>('progress');
  const [idleAfter, setIdleAfter] = useState(5);
  const [now, setNow] = useState(() => Date.now());
  const [selected, setSelected] = useState<string | null>(null);
  const [classMessage, setClassMessage] = useState('');
  const [status, setStatus] = useState<string | null>(null);

  useEffect(() => {
    if (!instructor) return;
    const events = new EventSource(instructorApi.eventsUrl(workshopId));
    events.onmessage = (event) => {
      const update = JSON.parse(event.data as string) as GridEvent;
      if (update.type === 'grid') setGrid(update);
      else if (update.type === 'rows') setGrid((previous) => previous && { ...previous, rows: update.rows });
      else
        setGrid((previous) => previous && {
          ...previous,
          rows: previous.rows.some((row) => row.learnerId === update.row.learnerId)
            ? previous.rows.map((row) => (row.learnerId === update.row.learnerId ? update.row : row))
            : [...previous.rows, update.row],
        });
      setError(null);
    };
    events.onerror = () => setError('Lost the live connection to the server: retrying…');
    const clock = setInterval(() => setNow(Date.now()), 15_000);
    return () => {
      events.close();
      clearInterval(clock);
    };
  }, [instructor, workshopId]);

  if (!grid) return <p className={error ? styles.error : styles.muted}>{error ?? 'Loading the workshop…'}</p>;
  const { workshop, columns } = grid;
  const rows = sortRows(grid.rows, order);
  const selectedRow = rows.find((row) => row.learnerId === selected);
  const joinUrl = `${location.origin}/join/${workshop.joinCode}`;

  const run = async (label: string, action: () => Promise<unknown>) => {
    try {
      setStatus(`${label}…`);
      const answer = await action();
      setStatus(`${label}: done${answer && typeof answer === 'object' && 'started' in answer ? ` (${JSON.stringify(answer).replace(/[{}"]/g, '').replace(/,/g, ', ')})` : ''}.`);
    } catch (failure) {
      setStatus((failure as Error).message);
    }
  };

  return (
    <>
      <header className={styles.pageHeader}>
        <div>
          <p className="kicker">Workshop{workshop.endedAt ? ' · ended' : ''}</p>
          <h1>{workshop.title}</h1>
        </div>
        {!workshop.endedAt && (
          <div className={styles.join}>
            <span>Join at</span> <code data-testid="join-url">{joinUrl}</code>
            <span>or type</span> <strong className={styles.code} data-testid="join-code">{workshop.joinCode}</strong> <span>at /join</span>
            <button type="button" className={styles.secondary} onClick={() => void navigator.clipboard?.writeText(joinUrl)}>Copy link</button>
          </div>
        )}
      </header>
      {error && <p className={styles.error} role="alert">{error}</p>}

      <div className={styles.toolbar}>
        <label>
          Sort by{' '}
          <select value={order} onChange={(event) => setOrder(event.target.value as SortOrder)} aria-label="Sort learners by">
            <option value="progress">progress</option>
            <option value="activity">last activity</option>
            <option value="name">name</option>
          </select>
        </label>
        <label>
          Idle after <input type="number" min={1} max={240} value={idleAfter} onChange={(event) => setIdleAfter(Math.max(1, Number(event.target.value) || 1))} /> min
        </label>
        <a className={styles.secondary} href={instructorApi.gradesUrl(workshopId, 'csv')} download data-testid="export-csv">Export CSV</a>
        <a className={styles.secondary} href={instructorApi.gradesUrl(workshopId, 'json')} download>Export JSON</a>
        {!workshop.endedAt && workshop.labs.map((lab) => (
          <button key={lab.id} type="button" className={styles.secondary} title="Start a sandbox of this lab now for every learner who has none"
            onClick={() => void run(`Pre-starting ${lab.id}`, () => instructorApi.warm(workshopId, lab.id))}>
            Pre-start {lab.id}
          </button>
        ))}
        {!workshop.endedAt && (
          <button type="button" className={styles.danger}
            onClick={() => confirm('End this workshop? Every sandbox of its learners ends, no one can join any more, and the grades are frozen as they stand.') &&
              void run('Ending the workshop', () => instructorApi.end(workshopId).then(() => location.reload()))}>
            End workshop
          </button>
        )}
      </div>
      {!workshop.endedAt && (
        <form className={styles.inline} onSubmit={(event) => { event.preventDefault(); void run('Sending to the class', () => instructorApi.message(workshopId, classMessage, null).then(() => setClassMessage(''))); }}>
          <input value={classMessage} onChange={(event) => setClassMessage(event.target.value)} maxLength={500} placeholder="A message to the whole class" aria-label="Message to the class" required />
          <button type="submit" className={styles.secondary}>Send to all</button>
        </form>
      )}
      {status && <p className={styles.muted} role="status">{status}</p>}

      <div className="table-scroll">
        <table className={styles.grid} data-testid="workshop-grid">
          <thead>
            <tr>
              <th scope="col">Learner ({rows.length})</th>
              {columns.map((column) => (
                <th key={column.key} scope="col">
                  {column.title}
                  <span className={styles.muted}> {column.labId}</span>
                </th>
              ))}
            </tr>
            <tr className={styles.summary}>
              <th scope="row">Class</th>
              {columns.map((column) => {
                const summary = summarize(column, grid.rows);
                return (
                  <td key={column.key} data-testid="column-summary" data-exercise={column.key}>
                    {summary.passed}/{rows.length} passed
                    {summary.stuckOn && <span className={styles.stuck}>stuck on “{summary.stuckOn.criterion}” ({summary.stuckOn.learners})</span>}
                  </td>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={columns.length + 1} className={styles.muted}>No one has joined yet: share the link above.</td>
              </tr>
            )}
            {rows.map((row) => {
              const idle = idleMinutes(row, now);
              return (
                <tr key={row.learnerId} data-testid="grid-row" data-learner={row.displayName} aria-selected={row.learnerId === selected}>
                  <th scope="row">
                    <button type="button" className={styles.name} onClick={() => setSelected(row.learnerId)}>{row.displayName}</button>
                    {idle >= idleAfter && <span className={styles.idle}>idle {idle} min</span>}
                    {row.watched && <span className={styles.muted}> · watched</span>}
                  </th>
                  {columns.map((column) => {
                    const cell = row.cells[column.key];
                    return (
                      <td key={column.key} className={styles[cell.state]} data-testid="grid-cell" data-exercise={column.key} data-state={cell.state}
                        data-hint={cell.hintSeen} data-solution={cell.solutionSeen} onClick={() => setSelected(row.learnerId)} title={describeCell(cell)}>
                        {cell.state === 'passed' && <>✓ {new Date(cell.passedAt!).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</>}
                        {cell.state === 'working' && <>{cell.attempts} attempt{cell.attempts === 1 ? '' : 's'}</>}
                        {cell.state === 'not-started' && <span className={styles.muted}>not started</span>}
                        {cell.failing && <span className={styles.failing}>✗ {cell.failing.criterion}</span>}
                        {(cell.hintSeen || cell.solutionSeen) && (
                          <span className={styles.reveals}>{[cell.hintSeen && 'hint', cell.solutionSeen && 'solution'].filter(Boolean).join(' · ')}</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {selectedRow && <LearnerPanel workshopId={workshopId} row={selectedRow} columns={columns} onClose={() => setSelected(null)} />}
    </>
  );
}
