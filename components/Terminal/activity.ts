// A learner pressed Enter in one of a lab's terminals: live exercise checks listen for this.
const EVENT = 'wirelab:terminal-activity';

export function announceTerminalActivity(labId: string) {
  window.dispatchEvent(new CustomEvent(EVENT, { detail: { labId } }));
}

export function onTerminalActivity(labId: string, listener: () => void) {
  const handler = (event: Event) => {
    if ((event as CustomEvent<{ labId: string }>).detail.labId === labId) listener();
  };
  window.addEventListener(EVENT, handler);
  return () => window.removeEventListener(EVENT, handler);
}
