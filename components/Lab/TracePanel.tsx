'use client';

import { useState } from 'react';
import { DEFAULT_TRACE_SECONDS, MAX_TRACE_SECONDS } from '../../labs/traces';
import { labApi } from './api';
import styles from './Lab.module.css';

export interface TraceOffer {
  name: string;
  summary: string;
  scope: string;
}

// The page's side of `lab trace`: the server runs the chosen trace on the host, kept to this
// learner's sandbox, and its output arrives here as it is printed. Stop ends it early and still
// shows what it counted.
export default function TracePanel({ labId, offers }: { labId: string; offers: TraceOffer[] }) {
  const [chosen, setChosen] = useState(offers[0].name);
  const [seconds, setSeconds] = useState(DEFAULT_TRACE_SECONDS);
  const [output, setOutput] = useState('');
  const [running, setRunning] = useState(false);

  const start = async () => {
    setRunning(true);
    setOutput('');
    try {
      await labApi.trace(labId, chosen, seconds, (text) => setOutput((previous) => previous + text));
    } catch (error) {
      setOutput((previous) => `${previous}${(error as Error).message}\n`);
    } finally {
      setRunning(false);
    }
  };

  const offer = offers.find((candidate) => candidate.name === chosen)!;
  return (
    <div className={styles.trace} aria-label="Trace">
      <div className={styles.traceControls}>
        <label>
          Trace{' '}
          <select value={chosen} onChange={(event) => setChosen(event.target.value)} disabled={running}>
            {offers.map(({ name }) => <option key={name} value={name}>{name}</option>)}
          </select>
        </label>
        <label>
          for{' '}
          <input
            type="number" min={1} max={MAX_TRACE_SECONDS} value={seconds} disabled={running}
            onChange={(event) => setSeconds(Math.min(MAX_TRACE_SECONDS, Math.max(1, Math.round(Number(event.target.value)) || 1)))}
          />{' '}
          s
        </label>
        {running
          ? <button type="button" className={styles.secondary} onClick={() => void labApi.stopTrace(labId)}>Stop</button>
          : <button type="button" className={styles.secondary} onClick={() => void start()}>Run trace</button>}
        <span className={styles.traceSummary}>{offer.summary}, in {offer.scope}. The server runs it for you: <code>lab trace {chosen} {seconds}</code> does the same in the terminal.</span>
      </div>
      {output && <pre className={styles.traceOutput} aria-live="polite">{output}</pre>}
    </div>
  );
}
