import http from 'node:http';
import path from 'node:path';
import next from 'next';
import type { Exercise } from '../labs/define-lab.ts';
import { labs } from '../labs/index.ts';
import { Checking } from './grading/checking.ts';
import { loadConfig } from './config.ts';
import { Counters } from './mediation/counters.ts';
import { openDatabase } from './db/database.ts';
import { SessionRecords } from './db/session-records.ts';
import { RuncEngine } from './engine/runc.ts';
import { Grader } from './grading/grader.ts';
import { handleApi } from './http/api.ts';
import { metricsEndpoint } from './http/metrics-endpoint.ts';
import { isSameOrigin } from './http/origin.ts';
import { sendJson } from './http/json.ts';
import { sendRefusal } from './http/refusal.ts';
import { terminalSockets } from './http/terminal-socket.ts';
import { Identity } from './http/identity.ts';
import { labImage } from './sandboxes/image.ts';
import { missingFeatures as missingOf, probeKernelFeatures } from './sandboxes/kernel-features.ts';
import { applyHostSysctls } from './mediation/knobs.ts';
import { serveLabCommand } from './mediation/lab-command.ts';
import { clientOf as clientBehind } from './limits/client-address.ts';
import { RateLimits } from './limits/rate-limits.ts';
import { Refusal } from './limits/refusal.ts';
import { TerminalConnections } from './limits/terminal-connections.ts';
import { log } from './ops/log.ts';
import { countKeptFilesWith, countSandboxStatesWith, zeroLabSeries } from './ops/metrics.ts';
import { openShell, ROOT_HOST, Sessions } from './sandboxes/sessions.ts';
import { Tracer } from './mediation/tracing.ts';
import { WarmPool } from './sandboxes/warm-pool.ts';
import { WorkshopLive } from './workshops/live.ts';
import { ObservedProgressStore } from './workshops/observed-progress.ts';
import { workshopSide } from './workshops/wiring.ts';

// One Node process serves the whole product: the Next.js pages, the JSON API and the
// WebSocket terminals, all on one port, so a learner's browser talks to a single origin.
const config = loadConfig();
const dev = process.argv.includes('--dev');
const projectRoot = path.resolve(import.meta.dirname, '..');

if (process.getuid?.() !== 0) {
  log.fatal('the server starts lab sandboxes with runc and must run as root (sudo npm start).');
  process.exit(1);
}

const db = openDatabase(config.databasePath);
const live = new WorkshopLive();
const progress = new ObservedProgressStore(db, live);
const identity = new Identity(config.dataDir);
const engine = new RuncEngine({
  imageDir: await labImage(),
  stateDir: config.stateDir,
  volumesDir: config.volumesDir,
  volumeBytes: config.volumeBytes,
  limits: config.sandboxLimits,
  isolation: config.isolation,
});
if (config.isolation === 'host-root') {
  log.warn('WARNING: WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES=yes: every learner is root over this machine and can see every other learner.');
}
const grader = new Grader(engine, config.gradingConcurrency);
const checking = new Checking(grader, progress);
const tracer = new Tracer(config.tracingConcurrency);
const counters = new Counters(engine);
const limits = new RateLimits(config.limits.rates);
const clientOf = (req: http.IncomingMessage) => clientBehind(req, config.limits.trustedProxies);
const pool: WarmPool = new WarmPool(engine, labs, config.warmPool, {
  maxSandboxes: config.maxSandboxes,
  inUse: () => sessions.count,
  startsWaiting: () => sessions.starting > 0,
  // Warm sandboxes never take the memory a learner's sandbox could grow into.
  memoryHeadroomBytes: Math.max(1024 ** 3, 2 * config.sandboxLimits.memoryBytes),
}, (sandbox, size) => openShell(engine, sandbox, ROOT_HOST, size));
const sessions = new Sessions(engine, new SessionRecords(db), config, labs, (session) => {
  const check = async (exercise: Exercise) => {
    limits.admitTerminalCheck(session.learnerId);
    return checking.check(session, exercise, 'terminal');
  };
  const stopLabCommand = serveLabCommand({ sandbox: session.sandbox, lab: session.lab, engine, tracer, check });
  live.learnerChanged(session.learnerId);
  return () => {
    stopLabCommand();
    counters.stop(session.id, 'The lab\'s sandbox ended.');
    live.learnerChanged(session.learnerId);
  };
}, pool);
applyHostSysctls();
countSandboxStatesWith(() => sessions.states);
countKeptFilesWith(() => engine.volumes());
zeroLabSeries(labs.keys());

const { adopted, swept } = await sessions.recover();
if (adopted || swept) log.info(`re-adopted ${adopted} running sandbox(es), swept ${swept} left over from an earlier run`);
sessions.startReaper();
// Known before serving, so that a lab page never offers what this kernel cannot run, and so that
// the probe's throwaway sandbox is gone before anyone can stop the server.
const kernelSupport = await probeKernelFeatures(engine).catch((error: unknown) => {
  log.error({ err: error }, 'probing kernel features failed; labs will start without the check');
  return null;
});
const missingFeatures = kernelSupport ? [...kernelSupport].filter(([, available]) => !available).map(([feature]) => feature) : [];
if (missingFeatures.length) log.info(`this kernel lacks ${missingFeatures.join(', ')}; labs that need them say so on their page`);
// After the sweep, so that the sweep never takes this run's warm sandboxes for leftovers.
pool.start((lab) => missingOf(kernelSupport, lab.requires).length === 0);
const api = { sessions, checking, progress, kernelSupport, engine, tracer, counters, limits, clientOf };
const workshops = workshopSide({ db, identity, sessions, live, progress, labs, clientOf });
const handleMetrics = metricsEndpoint(config.metrics);

const nextApp = next({ dev, dir: projectRoot, hostname: config.host, port: config.port });
const handlePage = nextApp.getRequestHandler();
await nextApp.prepare();

const server = http.createServer((req, res) => {
  if (handleMetrics(req, res)) return;
  const { learnerId, cookie } = identity.learnerOf(req);
  // A request without a cookie makes a new learner. Past the client's allowance of those, pages
  // are still served (reading costs nothing) but without a cookie, and the API, where a learner
  // starts to cost (a row, sandboxes), is refused. A health probe is never anybody.
  if (cookie) {
    try {
      if (req.url !== '/api/health') limits.admitNewLearner(clientOf(req));
      res.setHeader('set-cookie', cookie);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      if (req.url?.startsWith('/api/')) return sendRefusal(res, error);
    }
  }
  if (req.url?.startsWith('/api/')) {
    if (req.method !== 'GET' && !isSameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin requests are refused' });
    if (workshops.handleApi(req, res, learnerId)) return;
    return void handleApi(api, learnerId, req, res);
  }
  handlePage(req, res).catch((error: unknown) => {
    log.error({ err: error, path: req.url }, 'page handler failed');
    if (!res.headersSent) res.writeHead(500);
    res.end('Internal error');
  });
});

const handleTerminalUpgrade = terminalSockets(sessions, identity, {
  connections: new TerminalConnections(config.limits.terminalsPerSession),
  inputBytesPerSecond: config.limits.terminalInputBytesPerSecond,
});
const handleNextUpgrade = nextApp.getUpgradeHandler();
server.on('upgrade', (req, socket, head) => {
  if (!handleTerminalUpgrade(req, socket, head) && !workshops.handleUpgrade(req, socket, head)) void handleNextUpgrade(req, socket, head);
});

server.listen(config.port, config.host, () => {
  // The line a person (and test/support/server.ts) waits for: it stays readable in the JSON log too.
  log.info(`wirelab: ready on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`);
});

// A deliberate stop keeps learners' files. By default (WIRELAB_SANDBOXES_ON_STOP=keep-running)
// their sandboxes go on running, for the next start to re-adopt as after a crash, so that a
// restart for an upgrade costs a learner only a reconnect; `stop` ends them.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const keepRunning = config.sandboxesOnStop === 'keep-running';
    log.info(`${signal}: ${keepRunning ? 'leaving' : 'ending'} ${sessions.count} lab sandbox(es)${keepRunning ? ' running for the next start' : ''}; learners' files are kept`);
    server.close();
    void sessions.stopServing({ keepRunning }).finally(() => {
      db.close();
      process.exit(0);
    });
  });
}
