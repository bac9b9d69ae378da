// Why a sandbox ends. Each but `reset` keeps the learner's files.
export const END_REASONS = {
  idle: 'idle timeout',
  lifetime: 'maximum lifetime reached',
  learner: 'ended by the learner',
  reset: 'reset by the learner',
  instructorReset: 'reset by the instructor',
  instructorEnd: 'ended by the instructor',
  serverStop: 'server stopped',
  crashed: 'sandbox stopped unexpectedly',
  goneAfterRestart: 'sandbox gone after a server restart',
} as const;

// Why a sandbox ended and what became of the learner's files, as the page and the terminal say it.
export function endSentence(reason: string, limits: { idleTimeoutMs: number; maxLifetimeMs: number }) {
  const minutes = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} seconds` : `${Math.round(ms / 60_000)} minutes`);
  const kept = 'your files are kept: Start resumes on them';
  switch (reason) {
    case END_REASONS.idle: return `Your sandbox was stopped after ${minutes(limits.idleTimeoutMs)} idle — ${kept}.`;
    case END_REASONS.lifetime: return `Your sandbox was stopped after ${minutes(limits.maxLifetimeMs)}, the longest one may run — ${kept}.`;
    case END_REASONS.learner: return `You ended this lab's sandbox — ${kept}.`;
    case END_REASONS.reset: return 'You reset this lab: its sandbox and your files in it were wiped.';
    case END_REASONS.instructorReset: return `Your instructor restarted this lab's sandbox — ${kept}.`;
    case END_REASONS.instructorEnd: return `Your instructor ended this lab's sandbox — ${kept}.`;
    case END_REASONS.serverStop: return `The server was stopped, and your sandbox with it — ${kept}.`;
    case END_REASONS.goneAfterRestart: return `Your sandbox did not survive a restart of the server — ${kept}.`;
    case END_REASONS.crashed: return `Your sandbox stopped unexpectedly (it may have run out of memory) — ${kept}.`;
    default: return `Your sandbox ended (${reason}) — ${kept}.`;
  }
}
