// `npm run load [-- --learners 30 --minutes 5 --lab netns-veth --port 3160]`: a workshop on this
// machine. N simulated learners press Start lab at the same moment on a real server (loopback only,
// a port and state dir of its own) and work for M minutes over the real HTTP API and WebSockets, as
// the page does: they type at human speed with pastes now and then, the page re-checks live after
// each Enter, they press Check when a task is done, reload (reconnect) now and then and reset once.
// Prints the errors (0 expected), start, echo and check latencies, the server's CPU and RSS and
// the machine's MemAvailable over time. Stops by itself: M minutes of work, then a bounded wind-down.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type WebSocket from 'ws';
import { findLab } from '../labs/index.ts';
import { DEFAULT_WARM_POOL } from '../server/config.ts';
import { memAvailable } from '../server/sandboxes/mem-available.ts';
import { Learner, startServer, typeInto, waitForOutput } from '../test/support/server.ts';

const { values: flags } = parseArgs({
  options: {
    learners: { type: 'string', default: '30' },
    minutes: { type: 'string', default: '5' },
    lab: { type: 'string', default: 'netns-veth' },
    port: { type: 'string', default: '3160' },
  },
});
const LEARNERS = Number(flags.learners);
const MINUTES = Number(flags.minutes);
const PORT = Number(flags.port);
if (!(LEARNERS >= 1 && LEARNERS <= 200)) throw new Error('--learners: between 1 and 200');
if (!(MINUTES > 0 && MINUTES <= 60)) throw new Error('--minutes: more than 0, at most 60');
const lab = findLab(flags.lab!);
if (!lab) throw new Error(`--lab: there is no lab "${flags.lab}"`);

// Human pace, from watching people type in a terminal: ~6 keys a second, a few seconds of thought
// between commands, a reload every minute or two.
const KEY_GAP_MS = [90, 250];
const THINK_MS = [2000, 6000];
const RELOAD_EVERY_MS = [60_000, 120_000];
const PASTE_ONE_IN = 4;
// What the page waits after an Enter before its live re-check (components/Exercise).
const LIVE_SETTLE_MS = 1500;
const PROMPT_TIMEOUT_MS = 20_000;
const SAMPLE_EVERY_MS = 10_000;
const EXPLORING = ['ip -br link', 'ip netns list', 'ip -br addr', 'ip route', 'ls /root', 'cat /proc/net/dev | head -5', 'ss -tan | head'];

const between = ([low, high]: number[]) => low + Math.random() * (high - low);
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
};

const latencies = {
  start: [] as number[],
  reset: [] as number[],
  echo: [] as number[],
  check: [] as number[],
  checkLive: [] as number[],
  // A check's latency less the time its commands themselves ran (a failing `ping -W 1` waits 1 s
  // by design): what the server adds, queueing included.
  checkOverhead: [] as number[],
  reconnect: [] as number[],
};
const errors: string[] = [];
const counts = { commands: 0, pastes: 0, checks: 0, reloads: 0, resets: 0 };

// Shell commands of the lab's reference solutions, one per line, in order.
const solutionLines = lab.exercises.map((exercise) => ({
  exercise,
  lines: exercise.solution.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')),
}));

const stateDir = `/run/wirelab-load-${PORT}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-load-'));
const server = await startServer({ port: PORT, dataDir, stateDir, env: { WIRELAB_WARM_POOL: process.env.WIRELAB_WARM_POOL ?? DEFAULT_WARM_POOL } });
const serverPid = server.process.pid!;
const hardStop = setTimeout(() => {
  errors.push('the run overran its time bound and was cut short');
  void finish();
}, (MINUTES + 3) * 60_000);

// CPU seconds of the server itself, and of the commands it ran and reaped (runc exec, runc run,
// their sandboxed children are charged to the sandboxes' cgroups instead).
function serverUsage() {
  const stat = fs.readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
  const rss = Number(fs.readFileSync(`/proc/${serverPid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
  return { cpuSeconds: (stat[11] + stat[12]) / 100, childrenSeconds: (stat[13] + stat[14]) / 100, rss };
}
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

const began = performance.now();
const deadline = began + MINUTES * 60_000;
const samples: { at: number; cpu: number; children: number; rss: number; available: number }[] = [];
let lastUsage = { at: began, ...serverUsage() };
const sampler = setInterval(() => {
  const now = performance.now();
  const usage = serverUsage();
  const seconds = (now - lastUsage.at) / 1000;
  samples.push({
    at: now - began,
    cpu: (usage.cpuSeconds - lastUsage.cpuSeconds) / seconds,
    children: (usage.childrenSeconds - lastUsage.childrenSeconds) / seconds,
    rss: usage.rss,
    available: memAvailable(),
  });
  lastUsage = { at: now, ...usage };
}, SAMPLE_EVERY_MS);

console.log(`wirelab load: ${LEARNERS} learners on lab ${lab.id} for ${MINUTES} min, server on 127.0.0.1:${PORT}, ${os.cpus().length} cores\n`);

// One learner at the keyboard, from Start lab until the time is up.
async function learnerAtWork(index: number) {
  const learner = new Learner(server.url);
  const fail = (what: string) => errors.push(`learner ${index}: ${what}`);
  let ws: WebSocket | undefined;
  let sessionId = '';
  const pendingLive = new Set<Promise<void>>();
  let liveTimer: NodeJS.Timeout | undefined;
  const completed = new Set<string>();

  const call = async (method: string, pathname: string, body?: unknown) => {
    const answer = await learner.request(method, pathname, body);
    if (answer.status !== 200) throw new Error(`${method} ${pathname} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const connect = async () => {
    ws = learner.terminal(sessionId);
    ws.on('error', (error) => fail(`terminal error: ${error.message}`));
    await waitForOutput(ws, /# $/, PROMPT_TIMEOUT_MS);
  };
  const startLab = async (action: 'session' | 'session/reset') => {
    const started = performance.now();
    sessionId = (await call('POST', `/api/labs/${lab!.id}/${action}`)).session.id;
    await connect();
    (action === 'session' ? latencies.start : latencies.reset).push(performance.now() - started);
  };
  const check = async (exerciseId: string, trigger: 'button' | 'live') => {
    const started = performance.now();
    const verdict = await call('POST', `/api/labs/${lab!.id}/exercises/${exerciseId}/check`, { trigger });
    const took = performance.now() - started;
    (trigger === 'button' ? latencies.check : latencies.checkLive).push(took);
    latencies.checkOverhead.push(took - (verdict.results as { durationMs: number }[]).reduce((sum, result) => sum + result.durationMs, 0));
    counts.checks++;
    if (verdict.completed) completed.add(exerciseId);
    return verdict;
  };
  // The page: 1.5 s after the last Enter, each exercise not yet done is re-checked, one at a time.
  const afterEnter = () => {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      const run = (async () => {
        for (const { exercise } of solutionLines) if (!completed.has(exercise.id)) await check(exercise.id, 'live');
      })().catch((error: Error) => void fail(`live check: ${error.message}`));
      pendingLive.add(run);
      void run.finally(() => pendingLive.delete(run));
    }, LIVE_SETTLE_MS);
  };
  const typeCommand = async (command: string) => {
    for (const key of command) {
      const echoed = waitForOutput(ws!, new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 5000);
      const sent = performance.now();
      typeInto(ws!, key);
      await echoed;
      latencies.echo.push(performance.now() - sent);
      await sleep(between(KEY_GAP_MS));
    }
    const prompt = waitForOutput(ws!, /\n[^\n]*# $/, PROMPT_TIMEOUT_MS);
    typeInto(ws!, '\r');
    await prompt;
    counts.commands++;
    afterEnter();
  };
  // Several lines at once; an echo of a mark at the end says when the shell has run them all.
  const paste = async (lines: string[]) => {
    const mark = `pasted-${index}-${counts.pastes}`;
    const prompt = waitForOutput(ws!, new RegExp(`\n\r?${mark}\r?\n[^\n]*# $`), PROMPT_TIMEOUT_MS);
    typeInto(ws!, [...lines, `echo ${mark}`].map((line) => `${line}\r`).join(''));
    await prompt;
    counts.pastes++;
    afterEnter();
  };
  // The lab's tasks as a learner does them, looking around in between; Check once each is done.
  const work = async () => {
    for (const { exercise, lines } of solutionLines) {
      let line = 0;
      while (line < lines.length && performance.now() < deadline) {
        await sleep(between(THINK_MS));
        if (Math.random() < 0.3) await typeCommand(EXPLORING[Math.floor(Math.random() * EXPLORING.length)]);
        else if (Math.random() < 1 / PASTE_ONE_IN && line + 1 < lines.length) {
          await paste(lines.slice(line, line + 4));
          line += 4;
        } else await typeCommand(lines[line++]);
        if (performance.now() >= nextReload) await reload();
      }
      if (performance.now() >= deadline) return;
      const verdict = await check(exercise.id, 'button');
      if (!verdict.passed) fail(`exercise ${exercise.id} did not pass after its solution: ${JSON.stringify(verdict.results)}`);
    }
  };
  const reload = async () => {
    ws?.close();
    const started = performance.now();
    await call('GET', `/api/labs/${lab!.id}`);
    await call('GET', '/api/progress');
    await connect();
    latencies.reconnect.push(performance.now() - started);
    counts.reloads++;
    nextReload = performance.now() + between(RELOAD_EVERY_MS);
  };

  let nextReload = performance.now() + between(RELOAD_EVERY_MS);
  try {
    await startLab('session');
    await work();
    // Once, mid-way through the time left: a reset, then the tasks again from the start.
    if (performance.now() < deadline - 30_000) {
      await sleep(between(THINK_MS));
      ws?.close();
      completed.clear();
      await startLab('session/reset');
      counts.resets++;
      await work();
    }
    while (performance.now() < deadline) {
      await sleep(between(THINK_MS));
      if (performance.now() >= deadline) break;
      await typeCommand(EXPLORING[Math.floor(Math.random() * EXPLORING.length)]);
      if (performance.now() >= nextReload) await reload();
    }
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(liveTimer);
    await Promise.allSettled(pendingLive);
    ws?.close();
    await learner.request('DELETE', `/api/labs/${lab!.id}/session`).catch(() => {});
  }
}

let finishing: Promise<void> | undefined;
function finish() {
  finishing ??= (async () => {
    clearInterval(sampler);
    clearTimeout(hardStop);
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    report();
    process.exit(errors.length === 0 ? 0 : 1);
  })();
  return finishing;
}

function report() {
  const line = (label: string, values: number[]) =>
    console.log(`${label.padEnd(34)} p50 ${percentile(values, 50).toFixed(0).padStart(6)} ms   p95 ${percentile(values, 95).toFixed(0).padStart(6)} ms   max ${Math.max(...values).toFixed(0).padStart(6)} ms   (${values.length})`);
  console.log('\nover time (every 10 s): minute, server CPU and its commands\' (cores), server RSS, host MemAvailable');
  for (const sample of samples) {
    console.log(`  ${(sample.at / 60_000).toFixed(2).padStart(5)}  ${sample.cpu.toFixed(2)} + ${sample.children.toFixed(2)}  ${mib(sample.rss).padStart(8)}  ${mib(sample.available).padStart(9)}`);
  }
  console.log('');
  line(`start lab → prompt (${LEARNERS} at once)`, latencies.start);
  line('reset → prompt', latencies.reset);
  line('keystroke echo', latencies.echo);
  line('check (button)', latencies.check);
  line('check (live, after an Enter)', latencies.checkLive);
  line('check (all)', [...latencies.check, ...latencies.checkLive]);
  line('check, less its commands\' own time', latencies.checkOverhead);
  line('reload → prompt', latencies.reconnect);
  const cpu = samples.map((sample) => sample.cpu);
  const children = samples.map((sample) => sample.children);
  const mean = (values: number[]) => (values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)).toFixed(2);
  console.log(`server CPU: mean ${mean(cpu)} cores (max ${Math.max(...cpu).toFixed(2)}), its commands ${mean(children)} (max ${Math.max(...children).toFixed(2)}); RSS max ${mib(Math.max(...samples.map((s) => s.rss)))}; MemAvailable min ${mib(Math.min(...samples.map((s) => s.available)))}`);
  console.log(`work done: ${counts.commands} commands typed, ${counts.pastes} pastes, ${counts.checks} checks, ${counts.reloads} reloads, ${counts.resets} resets`);
  console.log(`errors: ${errors.length}`);
  for (const error of errors.slice(0, 20)) console.log(`  ${error}`);
}

await Promise.all(Array.from({ length: LEARNERS }, (_, index) => learnerAtWork(index + 1)));
await finish();
