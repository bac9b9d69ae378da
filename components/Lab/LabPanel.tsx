'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import Terminal, { preloadTerminal } from '../Terminal';
import { openEarly } from '../Terminal/early-socket';
import type { ConnectionState } from '../Terminal/TerminalView';
import { ApiError } from '../api';
import { labApi, type LabEnded, type LabSession } from './api';
import EndedNotice from './EndedNotice';
import MemoryMeter from './MemoryMeter';
import styles from './Lab.module.css';
import { announceLabSession, onSandboxChangedElsewhere } from './session-change';
import TracePanel, { type TraceOffer } from './TracePanel';

type Phase =
  | { name: 'loading' }
  | { name: 'unavailable'; missing: string[] }
  | { name: 'idle' }
  | { name: 'starting' }
  | { name: 'ready'; session: LabSession; notice?: string }
  | { name: 'ended'; ended: LabEnded | null; reason?: string }
  | { name: 'error'; message: string };

const RESET_QUESTION =
  'Reset this lab? Its sandbox is destroyed and every file you changed in it (in /root, /etc and elsewhere) is wiped; a fresh one starts. ' +
  'Your progress is kept. To keep your files, cancel and use "Download my files" first.';

export default function LabPanel({ labId, title, hosts, traces }: { labId: string; title: string; hosts: string[]; traces: TraceOffer[] }) {
  const [phase, setPhase] = useState<Phase>({ name: 'loading' });
  const [activeHost, setActiveHost] = useState(hosts[0]);
  const [openedHosts, setOpenedHosts] = useState<string[]>([hosts[0]]);
  const [connection, setConnection] = useState<Record<string, ConnectionState>>({});
  // Whether the server holds this learner's files for the lab: a refused start leaves them kept, a Reset wipes them.
  const [filesKept, setFilesKept] = useState(false);
  const section = useRef<HTMLElement>(null);

  // The terminal's code loads before anyone presses Start lab: when the lab comes near the screen,
  // or when the page is idle, whichever is first.
  useEffect(() => {
    const load = () => void preloadTerminal().catch(() => {});
    const visible = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && load(), { rootMargin: '400px' });
    visible.observe(section.current!);
    const idle = 'requestIdleCallback' in window ? window.requestIdleCallback(load, { timeout: 3000 }) : undefined;
    return () => {
      visible.disconnect();
      if (idle !== undefined) window.cancelIdleCallback(idle);
    };
  }, []);

  // On load: a learner who already has a sandbox for this lab goes straight back to it.
  useEffect(() => {
    labApi.status(labId).then(
      (status) => {
        if (!status.available) setPhase({ name: 'unavailable', missing: status.missingFeatures });
        else if (status.session) setPhase({ name: 'ready', session: status.session });
        else if (status.ended) setPhase({ name: 'ended', ended: status.ended });
        else setPhase({ name: 'idle' });
      },
      (error: Error) => setPhase({ name: 'error', message: error.message }),
    );
  }, [labId]);

  useEffect(
    () =>
      onSandboxChangedElsewhere(labId, () => {
        void labApi.status(labId).then((status) => {
          setConnection({});
          if (status.session) setPhase({ name: 'ready', session: status.session });
          else setPhase({ name: 'ended', ended: status.ended });
        });
      }),
    [labId],
  );

  const endedWithFiles = phase.name === 'ended' && Boolean(phase.ended?.filesKept);
  useEffect(() => {
    if (endedWithFiles) setFilesKept(true);
  }, [endedWithFiles]);

  const sessionId = phase.name === 'ready' ? phase.session.id : null;
  useEffect(() => {
    if (phase.name !== 'loading' && phase.name !== 'starting') announceLabSession(labId, sessionId);
  }, [labId, phase.name, sessionId]);

  const run = useCallback(
    async (action: 'start' | 'reset', current?: LabSession) => {
      setPhase({ name: 'starting' });
      setConnection({});
      try {
        const { session } = await labApi[action](labId);
        if (action === 'reset') setFilesKept(false);
        openEarly(session.id, hosts[0]);
        setOpenedHosts([hosts[0]]);
        setActiveHost(hosts[0]);
        setPhase({ name: 'ready', session });
      } catch (error) {
        // A refused reset left the sandbox as it was: keep showing it, with the server's sentence.
        const refused = error instanceof ApiError && error.status === 429;
        if (current && refused) setPhase({ name: 'ready', session: current, notice: error.message });
        else setPhase({ name: 'error', message: (error as Error).message });
      }
    },
    [labId, hosts],
  );

  // What the server says of the sandbox that just ended (why, what was kept, what was lost).
  const showEnded = useCallback(async (fallback: string) => {
    const status = await labApi.status(labId).catch(() => null);
    if (status?.session) return false;
    setPhase({ name: 'ended', ended: status?.ended ?? null, reason: status?.ended ? undefined : fallback });
    return true;
  }, [labId]);

  const end = async () => {
    await labApi.end(labId).catch(() => {});
    await showEnded('You ended this lab. Its sandbox is gone; your progress is kept.');
  };

  const onConnection = (host: string) => async (state: ConnectionState) => {
    setConnection((previous) => ({ ...previous, [host]: state }));
    // The sandbox ended (the terminal said why), or the page gave up reconnecting: ask the server.
    if (state === 'ended' || state === 'lost') await showEnded('This lab\'s sandbox has ended, and the server could not be reached to say why.');
  };

  const selectHost = (host: string) => {
    setActiveHost(host);
    setOpenedHosts((previous) => (previous.includes(host) ? previous : [...previous, host]));
  };

  const activeState = connection[activeHost];
  const statusText =
    phase.name === 'starting' ? 'Starting your sandbox…'
    : phase.name === 'ready' ? { connecting: 'Connecting…', open: 'Ready', reconnecting: 'Reconnecting…', exited: 'Shell exited', ended: 'Ended', lost: 'Disconnected' }[activeState ?? 'connecting']
    : phase.name === 'ended' ? 'Ended'
    : '';

  return (
    <section ref={section} id={`lab-${labId}`} className={styles.lab} aria-label={`Lab: ${title}`} data-lab={labId} data-phase={phase.name} data-connection={activeState ?? ''}>
      <header className={styles.header}>
        <div>
          <span className={styles.kicker}>Lab</span>
          <h3 className={styles.title}>{title}</h3>
        </div>
        <div className={styles.actions}>
          {statusText && <span className={styles.status} role="status" aria-live="polite">{statusText}</span>}
          {phase.name === 'ready' && (
            <>
              <MemoryMeter labId={labId} sessionId={phase.session.id} />
              <a className={styles.secondary} href={labApi.filesUrl(labId)} download>Download my files</a>
              <button type="button" className={styles.secondary} onClick={() => confirm(RESET_QUESTION) && void run('reset', phase.session)}>Reset</button>
              <button type="button" className={styles.secondary} onClick={() => void end()} title="Stops the sandbox; your files are kept for the next start">End</button>
            </>
          )}
        </div>
      </header>

      {phase.name === 'loading' && <p className={styles.note}>Checking the lab…</p>}
      {phase.name === 'unavailable' && (
        <p className={styles.warning}>
          This server&apos;s kernel cannot run this lab: it lacks {phase.missing.join(', ')}. The chapter still reads fine;
          run wirelab on a kernel with these features to do the lab.
        </p>
      )}
      {(phase.name === 'idle' || phase.name === 'ended' || phase.name === 'error') && (
        <div className={styles.start}>
          {phase.name === 'ended' && (phase.ended ? <EndedNotice labId={labId} ended={phase.ended} /> : <p className={styles.note}>{phase.reason}</p>)}
          {phase.name === 'error' && <p className={styles.warning} role="alert">{phase.message}</p>}
          <p className={styles.note}>A private Linux sandbox with a root shell: nothing you do there touches this machine or other learners.</p>
          <button type="button" className={styles.primary} onClick={() => void run('start')}>
            {phase.name === 'idle' ? 'Start lab' : filesKept ? 'Start lab on my files' : 'Start a new sandbox'}
          </button>
        </div>
      )}
      {phase.name === 'starting' && <div className={styles.placeholder} aria-busy="true">Starting your sandbox…</div>}
      {phase.name === 'ready' && (
        <div className={styles.terminal}>
          {phase.notice && <p className={styles.warning} role="alert">{phase.notice}</p>}
          {hosts.length > 1 && (
            <div className={styles.tabs} role="tablist" aria-label="Hosts">
              {hosts.map((host) => (
                <button
                  key={host}
                  type="button"
                  role="tab"
                  aria-selected={host === activeHost}
                  className={styles.tab}
                  onClick={() => selectHost(host)}
                >
                  {host}
                </button>
              ))}
            </div>
          )}
          {openedHosts.map((host) => (
            <Terminal
              key={`${phase.session.id}/${host}`}
              labId={labId}
              sessionId={phase.session.id}
              host={host}
              active={host === activeHost}
              onStateChange={onConnection(host)}
            />
          ))}
          {traces.length > 0 && <TracePanel labId={labId} offers={traces} />}
          <p className={styles.help}>
            Type <code>lab check</code> in the terminal to check your work there. Copy with Ctrl+Shift+C; paste with Ctrl+V or Ctrl+Shift+V.
          </p>
        </div>
      )}
    </section>
  );
}
