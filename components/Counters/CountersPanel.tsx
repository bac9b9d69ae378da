'use client';

import { useEffect, useReducer, useState } from 'react';
import type { CounterGroup, CounterUnit } from '../../labs/counters';
import { labApi } from '../Lab/api';
import { onLabSession } from '../Lab/session-change';
import styles from './Counters.module.css';
import Sparkline from './Sparkline';

// What GET /api/labs/<lab>/counters sends once a second (server/mediation/counter-sampling.ts): for each
// group of the lab's counters, each series' rate per second (per CPU for softnet; null while
// unknown), or why the group has none yet.
type Rate = number | number[] | null;
type GroupRates = { rates: Rate[] } | { waiting: string };
interface CounterUpdate {
  t: number;
  groups: GroupRates[];
}

const MINUTE = 60;

interface Seen {
  // The time of the last sample drawn: a reconnect replays the last minute, and what is drawn already is skipped.
  t: number;
  latest: GroupRates[] | null;
  // Per group, per series, the last minute of rates (summed over CPUs).
  points: (number | null)[][][];
}

const total = (rate: Rate) => (Array.isArray(rate) ? rate.reduce((sum, value) => sum + value, 0) : rate);

function seen(groups: CounterGroup[]): Seen {
  return { t: 0, latest: null, points: groups.map((group) => group.series.map(() => [])) };
}

function record(state: Seen, update: CounterUpdate): Seen {
  if (update.t <= state.t) return state;
  const points = state.points.map((group, g) =>
    group.map((series, s) => {
      const rates = update.groups[g];
      return [...series, rates && 'rates' in rates ? total(rates.rates[s] ?? null) : null].slice(-MINUTE);
    }),
  );
  return { t: update.t, latest: update.groups, points };
}

type Phase = { name: 'unknown' | 'idle' | 'connecting' | 'live' | 'reconnecting' } | { name: 'ended'; reason: string };

const PHASE_TEXT: Record<Phase['name'], string> = {
  unknown: '',
  idle: 'Not running',
  connecting: 'Connecting…',
  live: 'Live, every second',
  reconnecting: 'Reconnecting…',
  ended: 'Stopped',
};

export default function CountersPanel({ labId, title, groups }: { labId: string; title: string; groups: CounterGroup[] }) {
  // undefined until the server says whether this learner has a sandbox for the lab.
  const [sessionId, setSessionId] = useState<string | null | undefined>(undefined);
  const [phase, setPhase] = useState<Phase>({ name: 'unknown' });
  const [state, dispatch] = useReducer((current: Seen, action: CounterUpdate | 'reset') => (action === 'reset' ? seen(groups) : record(current, action)), groups, seen);

  useEffect(() => {
    labApi.status(labId).then(
      (status) => setSessionId((known) => (known === undefined ? (status.session?.id ?? null) : known)),
      () => setSessionId((known) => known ?? null),
    );
    return onLabSession(labId, setSessionId);
  }, [labId]);

  useEffect(() => {
    if (sessionId === undefined) return;
    dispatch('reset');
    if (sessionId === null) {
      setPhase({ name: 'idle' });
      return;
    }
    setPhase({ name: 'connecting' });
    const source = new EventSource(`/api/labs/${encodeURIComponent(labId)}/counters?session=${encodeURIComponent(sessionId)}`);
    source.onmessage = (event: MessageEvent<string>) => {
      dispatch(JSON.parse(event.data) as CounterUpdate);
      setPhase({ name: 'live' });
    };
    source.addEventListener('end', (event) => {
      source.close();
      setPhase({ name: 'ended', reason: (JSON.parse((event as MessageEvent<string>).data) as { reason: string }).reason });
    });
    // CLOSED: the server refused (the sandbox is gone, or was never this page's); otherwise EventSource retries by itself.
    source.onerror = () => setPhase(source.readyState === EventSource.CLOSED ? { name: 'idle' } : { name: 'reconnecting' });
    return () => source.close();
  }, [labId, sessionId]);

  const running = phase.name === 'live' || phase.name === 'reconnecting';
  return (
    <section className={styles.counters} aria-label={`Live counters: ${title}`} data-counters={labId} data-phase={phase.name}>
      <header className={styles.header}>
        <span className="kicker">Live counters</span>
        <span className={styles.status} role="status">{PHASE_TEXT[phase.name]}</span>
      </header>
      {phase.name === 'ended' && <p className={styles.note}>{phase.reason}</p>}
      {(phase.name === 'idle' || phase.name === 'ended') && (
        <p className={styles.note}>These counters move once a second while your sandbox for this lab runs: start the lab to watch them.</p>
      )}
      <div className={styles.groups}>
        {groups.map((group, g) => {
          const latest = running ? state.latest?.[g] : undefined;
          const waiting = latest && 'waiting' in latest ? latest.waiting : null;
          return (
            <section key={g} className={styles.group} aria-label={group.title}>
              <h4 className={styles.groupTitle}>{group.title}</h4>
              <p className={styles.scope}>{group.scope}</p>
              {waiting && <p className={styles.waiting}>{waiting}</p>}
              <dl className={styles.series}>
                {group.series.map((series, s) => {
                  const rate = latest && 'rates' in latest ? (latest.rates[s] ?? null) : null;
                  const value = formatRate(total(rate), series.unit);
                  return (
                    <div key={s} className={styles.row} data-series={series.name} data-rate={total(rate) ?? ''}>
                      <dt className={styles.name}>{series.name}</dt>
                      <dd className={styles.value}>
                        <Sparkline points={running ? state.points[g][s] : []} capacity={MINUTE} trouble={series.trouble} />
                        <span aria-hidden="true" className={styles.number}>{value.short}</span>
                        <span className="visually-hidden">{value.spoken}</span>
                        {Array.isArray(rate) && <PerCpu rates={rate} unit={series.unit} />}
                      </dd>
                    </div>
                  );
                })}
              </dl>
            </section>
          );
        })}
      </div>
    </section>
  );
}

// One bar per CPU, scaled to the busiest: where the packets are processed (RPS moves them).
function PerCpu({ rates, unit }: { rates: number[]; unit: CounterUnit }) {
  const peak = Math.max(1, ...rates);
  return (
    <span className={styles.cpus}>
      <span className={styles.bars} aria-hidden="true">
        {rates.map((rate, cpu) => (
          <span key={cpu} className={styles.bar} style={{ height: `${Math.max(4, (rate / peak) * 100)}%` }} title={`CPU ${cpu}: ${formatRate(rate, unit).short}`} />
        ))}
      </span>
      <span className="visually-hidden">{rates.map((rate, cpu) => `CPU ${cpu}: ${formatRate(rate, unit).spoken}`).join(', ')}</span>
    </span>
  );
}

const UNITS: Record<CounterUnit, { short: (number: string, prefix: string) => string; spoken: string }> = {
  packets: { short: (number, prefix) => `${number}${prefix} pkt/s`, spoken: 'packets per second' },
  bytes: { short: (number, prefix) => `${number} ${prefix}B/s`, spoken: 'bytes per second' },
  events: { short: (number, prefix) => `${number}${prefix}/s`, spoken: 'per second' },
};
const SCALES = [
  { factor: 1e9, prefix: 'G', word: ' billion' },
  { factor: 1e6, prefix: 'M', word: ' million' },
  { factor: 1e3, prefix: 'k', word: ' thousand' },
  { factor: 1, prefix: '', word: '' },
];

// "9.2 pkt/s", "1.3 MB/s", "—" while unknown; and the same in words for screen readers.
function formatRate(rate: number | null, unit: CounterUnit) {
  if (rate === null) return { short: '—', spoken: 'not known yet' };
  const { factor, prefix, word } = SCALES.find((scale) => rate >= scale.factor) ?? SCALES[SCALES.length - 1];
  const scaled = rate / factor;
  // Two samples are never exactly a second apart: 19.96 packets a second reads as 20.
  const number = String(scaled >= 10 ? Math.round(scaled) : Number(scaled.toFixed(1)));
  return { short: UNITS[unit].short(number, prefix), spoken: `${number}${word} ${UNITS[unit].spoken}` };
}
