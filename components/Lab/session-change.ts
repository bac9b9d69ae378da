// The lab panel got a sandbox, or lost it (started, reset, ended, found gone): the counters panel
// beside it follows this, so it watches the same sandbox the terminal shows.
const EVENT = 'wirelab:lab-session';

export function announceLabSession(labId: string, sessionId: string | null) {
  window.dispatchEvent(new CustomEvent(EVENT, { detail: { labId, sessionId } }));
}

export function onLabSession(labId: string, listener: (sessionId: string | null) => void) {
  const handler = (event: Event) => {
    const { detail } = event as CustomEvent<{ labId: string; sessionId: string | null }>;
    if (detail.labId === labId) listener(detail.sessionId);
  };
  window.addEventListener(EVENT, handler);
  return () => window.removeEventListener(EVENT, handler);
}

// The lab's sandbox was replaced or ended from elsewhere (an instructor reset or ended it): the
// lab panel asks the server which sandbox it has now.
const CHANGED_ELSEWHERE = 'wirelab:lab-session-changed-elsewhere';

export function announceSandboxChangedElsewhere(labId: string) {
  window.dispatchEvent(new CustomEvent(CHANGED_ELSEWHERE, { detail: { labId } }));
}

export function onSandboxChangedElsewhere(labId: string, listener: () => void) {
  const handler = (event: Event) => {
    if ((event as CustomEvent<{ labId: string }>).detail.labId === labId) listener();
  };
  window.addEventListener(CHANGED_ELSEWHERE, handler);
  return () => window.removeEventListener(CHANGED_ELSEWHERE, handler);
}
