import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import Database from 'better-sqlite3';

// Every series wirelab exports, in the one registry /metrics serves (server/http/metrics-endpoint.ts).
// A module that moves a series imports it from here; nothing else needs to know Prometheus exists.
export const registry = new Registry();
// The process's CPU, resident memory, heap and event-loop lag, under the same prefix.
collectDefaultMetrics({ register: registry, prefix: 'wirelab_' });
const registers = [registry];

const SANDBOX_STATES = ['starting', 'running', 'ending'] as const;
let readSandboxStates: () => Record<(typeof SANDBOX_STATES)[number], number> = () => ({ starting: 0, running: 0, ending: 0 });

// Read at each scrape from whoever owns the sandboxes (main.ts points it at Sessions).
export function countSandboxStatesWith(read: typeof readSandboxStates) {
  readSandboxStates = read;
}

// Learners' kept files, read from the engine at each scrape.
let readKeptFiles: () => Promise<{ bytes: number }[]> = async () => [];
export function countKeptFilesWith(read: typeof readKeptFiles) {
  readKeptFiles = read;
}
new Gauge({
  name: 'wirelab_kept_files_bytes',
  help: "Host disk held by learners' kept files (all labs, all learners)",
  registers,
  async collect() {
    this.set((await readKeptFiles()).reduce((sum, volume) => sum + volume.bytes, 0));
  },
});
new Gauge({
  name: 'wirelab_kept_files',
  help: "Learners' kept file sets (one per learner and lab)",
  registers,
  async collect() {
    this.set((await readKeptFiles()).length);
  },
});

new Gauge({
  name: 'wirelab_sandboxes',
  help: 'Lab sandboxes by state: starting (being set up for a learner), running, ending (being torn down)',
  labelNames: ['state'],
  registers,
  collect() {
    const states = readSandboxStates();
    for (const state of SANDBOX_STATES) this.set({ state }, states[state]);
  },
});

// Set by the warm pool, which keeps ready sandboxes per lab.
export const warmPoolSandboxes = new Gauge({ name: 'wirelab_warm_pool_sandboxes', help: 'Ready sandboxes waiting in the warm pool, by lab', labelNames: ['lab'], registers });

export const sandboxStarts = new Counter({ name: 'wirelab_sandbox_starts_total', help: 'Sandboxes started for a learner (Start lab or Reset), by lab', labelNames: ['lab'], registers });
export const sandboxStartFailures = new Counter({
  name: 'wirelab_sandbox_start_failures_total',
  help: 'Sandbox starts that failed (the engine or the lab setup; refusals are counted apart), by lab',
  labelNames: ['lab'],
  registers,
});
// Buckets around the figures measured here: ~110 ms for a sandbox alone, ~1 s with 30 learners at once.
export const sandboxStartSeconds = new Histogram({
  name: 'wirelab_sandbox_start_seconds',
  help: 'From a learner\'s Start lab (or Reset) request to their sandbox being ready, by lab',
  labelNames: ['lab'],
  buckets: [0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10],
  registers,
});
export const checkSeconds = new Histogram({
  name: 'wirelab_check_seconds',
  help: 'Time to check an exercise, queueing for a grading slot included, by lab and trigger (button, live, terminal)',
  labelNames: ['lab', 'trigger'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers,
});

export const terminalConnections = new Gauge({ name: 'wirelab_terminal_connections', help: 'Open terminal WebSockets', registers });
export const websocketBytes = new Counter({
  name: 'wirelab_websocket_bytes_total',
  help: 'Terminal WebSocket payload bytes: in (keystrokes and pastes from browsers), out (shell output to browsers)',
  labelNames: ['direction'],
  registers,
});
export const terminalInputPauses = new Counter({
  name: 'wirelab_terminal_input_pauses_total',
  help: 'Times a terminal socket stopped being read because its input came faster than WIRELAB_TERMINAL_INPUT_KIB_PER_SECOND',
  registers,
});

export const refusals = new Counter({ name: 'wirelab_refusals_total', help: 'Requests refused by an abuse limit or the sandbox cap, by reason', labelNames: ['reason'], registers });
export const sqliteErrors = new Counter({ name: 'wirelab_sqlite_errors_total', help: 'SQLite errors met while serving, by SQLite error code', labelNames: ['code'], registers });

// Series a dashboard plots from the start, at zero, rather than from their first event.
for (const direction of ['in', 'out']) websocketBytes.inc({ direction }, 0);
// 'sandbox-capacity' is the server-wide cap (WIRELAB_MAX_SANDBOXES, a 503); the abuse limits (429)
// zero their own reasons (server/limits/refusal.ts).
refusals.inc({ reason: 'sandbox-capacity' }, 0);

// Per-lab counters from zero as well, so that the first start or failure of a lab shows in rate().
export function zeroLabSeries(labIds: Iterable<string>) {
  for (const lab of labIds) {
    sandboxStarts.inc({ lab }, 0);
    sandboxStartFailures.inc({ lab }, 0);
  }
}

export function countIfSqliteError(error: unknown) {
  if (error instanceof Database.SqliteError) sqliteErrors.inc({ code: error.code });
}
