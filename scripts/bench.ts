// `npm run bench`: the figures the issues set targets for, measured on this machine and printed
// (never asserted: timing belongs here, not in tests). Runs the real server on a port of its own.
//   - production build time and a chapter's first-load JavaScript (gzip), measured in chromium
//   - "Start lab" → first prompt byte over the WebSocket, p50/p95 over 20 runs
//   - in chromium, the click on Start lab → the prompt drawn by xterm, with the warm pool and without,
//     beside bare runc's floor, p50/p95 over 20 runs taken in turns
//   - the same start → prompt for a user-namespace sandbox, a host-root one and bare runc, taken in turns
//   - keystroke echo round trip, p50
//   - memory per idle sandbox and 100 idle sandboxes at once, the 101st refused, teardown time
//   - check latency of a three-criterion exercise, p50/p95
//   - CPU per sandbox whose live counters a page watches, against the same sandbox unwatched
//   - a workshop grid's update latency (a learner's check → the instructor's event), 30 learners
// `npm run bench -- <figure>…` measures only the figures named (the functions below), without the
// build, on the site as last built.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from '@playwright/test';
import * as pty from 'node-pty';
import type { IPty } from 'node-pty';
import { labs } from '../labs/index.ts';
import { DEFAULT_WARM_POOL, loadConfig } from '../server/config.ts';
import type { Isolation } from '../server/engine/oci-spec.ts';
import { memAvailable } from '../server/sandboxes/mem-available.ts';
import { realEngine, untilSandboxesWithShell } from '../test/support/sandboxes.ts';
import { instructorCommand, printedPassword } from '../test/support/instructors.ts';
import { Learner, startServer, waitForOutput, typeInto } from '../test/support/server.ts';
import type WebSocket from 'ws';

const ROOT = path.resolve(import.meta.dirname, '..');
// Overridable, so that two checkouts on one machine can measure side by side.
const PORT = Number(process.env.WIRELAB_BENCH_PORT ?? 3150);
const STATE_DIR = process.env.WIRELAB_BENCH_STATE_DIR ?? '/run/wirelab-bench';
const CHAPTER = '/learn/under-the-hood';
const IDLE_SANDBOXES = 100;
const LOGIN_SHELL = ['bash', '-l'];
const TTY_SIZE = { cols: 80, rows: 24 };

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const report = (label: string, value: string, target = '') => console.log(`${label.padEnd(52)} ${value.padEnd(26)} ${target && `target ${target}`}`);

function firstOutput(ws: WebSocket) {
  return new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('message', () => {
      ws.off('error', reject);
      resolve();
    });
  });
}

const FIGURES = { firstLoadJavaScript, startToPrompt, clickToPrompt, isolationCost, keystrokeEcho, checkLatency, countersCost, idleSandboxes, gridLatency };
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in FIGURES));
if (unknown.length) throw new Error(`no figure called ${unknown.join(', ')}: choose among ${Object.keys(FIGURES).join(', ')}`);

console.log('wirelab bench — this machine:', `${os.cpus().length} cores, ${mib(os.totalmem())} RAM, kernel ${os.release()}\n`);

if (chosen.length === 0) {
  // A cold build: without Next's cache, as on a fresh clone.
  fs.rmSync(path.join(ROOT, '.next', 'cache'), { recursive: true, force: true });
  const buildStarted = performance.now();
  const build = spawnSync('npx', ['next', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
  report('production build (next build, no cache)', `${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-bench-'));
const server = await startServer({ port: PORT, dataDir, stateDir: STATE_DIR });
try {
  for (const [name, measure] of Object.entries(FIGURES)) if (chosen.length === 0 || chosen.includes(name)) await measure();
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// What a browser really downloads to show a chapter (xterm.js is not among it: it loads with the lab).
// Debian's chromium, as the browser tests run it (playwright.config.ts).
function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

async function firstLoadJavaScript() {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const scripts = new Map<string, Promise<Buffer>>();
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.set(response.url(), response.body());
    });
    await page.goto(server.url + CHAPTER, { waitUntil: 'networkidle' });
    // The terminal (xterm.js) is not part of the first load: the page fetches it once idle or when a
    // lab comes into view, ahead of a click on Start lab. Its chunks are counted apart.
    const sizes = { page: { bytes: 0, files: 0 }, terminal: { bytes: 0, files: 0 } };
    for (const body of scripts.values()) {
      const code = await body;
      const part = code.includes('xterm-helper-textarea') ? sizes.terminal : sizes.page;
      part.bytes += zlib.gzipSync(code, { level: 9 }).length;
      part.files++;
    }
    const kb = ({ bytes, files }: { bytes: number; files: number }) => `${(bytes / 1024).toFixed(1)} KB gzip in ${files} files`;
    report(`chapter first-load JavaScript (${CHAPTER})`, kb(sizes.page), '≤ 200 KB');
    report('terminal code, fetched once the page is idle', kb(sizes.terminal));
  } finally {
    await browser.close();
  }
}

async function startToPrompt() {
  const samples: number[] = [];
  for (let run = 0; run < 20; run++) {
    const learner = new Learner(server.url);
    const started = performance.now();
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await firstOutput(ws);
    samples.push(performance.now() - started);
    ws.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
  }
  report('Start lab → first prompt byte, p50 (20 runs)', ms(percentile(samples, 50)), '≤ 250 ms');
  report('Start lab → first prompt byte, p95 (20 runs)', ms(percentile(samples, 95)), '≤ 600 ms');
}

// What a learner waits for in the browser: from the click on Start lab to the first prompt xterm
// draws (seen by a MutationObserver), on the orientation chapter, each run a new learner on a page
// read to its end (the terminal's code loads before the click, as the lab comes into view). Three
// contenders in turns, 20 runs each: a second server with the default warm pool (each run is left
// to refill the pool before the next contender's: learners do not all click in the same second),
// the bench server, which has none, and bare runc from Node (`runc run -d` of the lab image +
// `runc exec -t` to a prompt), the floor.
async function clickToPrompt() {
  const RUNS = 20;
  const poolStateDir = '/run/wirelab-bench-pool';
  const poolDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-bench-pool-'));
  const pooled = await startServer({ port: PORT + 1, dataDir: poolDataDir, stateDir: poolStateDir, env: { WIRELAB_WARM_POOL: DEFAULT_WARM_POOL } });
  const bare = bareRuncContender('/run/wirelab-bench-bare');
  const samples = { pool: [] as number[], noPool: [] as number[], bare: [] as number[] };
  let browser;
  try {
    browser = await launchChromium();
    const poolSize = Object.values(loadConfig({}).warmPool.perLab).reduce((sum, count) => sum + count, 0);
    await untilSandboxesWithShell(poolStateDir, poolSize, 120_000);
    const contenders = [
      async () => {
        samples.pool.push(await clickToPromptIn(browser!, pooled.url));
        await untilSandboxesWithShell(poolStateDir, poolSize);
      },
      async () => samples.noPool.push(await clickToPromptIn(browser!, server.url)),
      async () => samples.bare.push((await startToShell(bare)).start),
    ];
    for (let round = 0; round < RUNS; round++) {
      for (const measure of round % 2 === 0 ? contenders : [...contenders].reverse()) await measure();
    }
  } finally {
    await browser?.close();
    await pooled.stop();
    fs.rmSync(poolDataDir, { recursive: true, force: true });
    await bare.cleanUp();
  }
  for (const [label, runs] of [['with the warm pool', samples.pool], ['without a pool', samples.noPool]] as const) {
    report(`browser: click → prompt drawn, ${label}, p50`, ms(percentile(runs, 50)), label === 'with the warm pool' ? '≤ 150 ms, < bare floor' : '');
    report(`browser: click → prompt drawn, ${label}, p95`, ms(percentile(runs, 95)));
  }
  report('bare runc floor (run -d + exec -t → prompt), p50', ms(percentile(samples.bare, 50)));
  report('bare runc floor, p95', ms(percentile(samples.bare, 95)));
}

async function clickToPromptIn(browser: Awaited<ReturnType<typeof launchChromium>>, baseUrl: string) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/learn/orientation`);
    const lab = page.locator('section[data-lab="orientation"]');
    await lab.scrollIntoViewIfNeeded();
    const start = lab.getByRole('button', { name: 'Start lab' });
    await start.waitFor();
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => {
      const marks = window as unknown as { clickedAt?: number; promptAt?: number };
      const section = document.querySelector('section[data-lab="orientation"]')!;
      section.addEventListener('click', () => (marks.clickedAt ??= performance.now()), { capture: true });
      new MutationObserver((_, observer) => {
        if (section.querySelector('.xterm-rows')?.textContent?.includes('#')) {
          marks.promptAt = performance.now();
          observer.disconnect();
        }
      }).observe(section, { childList: true, subtree: true, characterData: true });
    });
    await start.click();
    await page.waitForFunction(() => (window as unknown as { promptAt?: number }).promptAt !== undefined, undefined, { timeout: 20_000 });
    const elapsed = await page.evaluate(() => {
      const marks = window as unknown as { clickedAt: number; promptAt: number };
      return marks.promptAt - marks.clickedAt;
    });
    await page.evaluate(() => fetch('/api/labs/orientation/session', { method: 'DELETE' }));
    return elapsed;
  } finally {
    await context.close();
  }
}

// What the user namespace costs a learner who starts a lab: the engine's two isolation modes and
// bare runc, each from nothing to the first byte of a login shell's prompt, 20 runs each, taken in
// turns (in reverse order every other round) so that the machine's noise, and the kernel's work
// left over from the previous teardown, fall on all of them alike. Teardown is timed apart.
async function isolationCost() {
  const contenders = [
    sandboxContender('user-namespace', '/run/wirelab-bench-userns'),
    sandboxContender('host-root', '/run/wirelab-bench-hostroot'),
    bareRuncContender('/run/wirelab-bench-bare'),
  ];
  const runs = contenders.map(() => [] as Awaited<ReturnType<typeof startToShell>>[]);
  try {
    for (let round = 0; round < 20; round++) {
      const order = round % 2 === 0 ? [...contenders.keys()] : [...contenders.keys()].reverse();
      for (const index of order) runs[index].push(await startToShell(contenders[index]));
    }
  } finally {
    const failed = (await Promise.allSettled(contenders.map((contender) => contender.cleanUp()))).find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
  const percentileOf = (index: number, phase: 'start' | 'create' | 'attach' | 'teardown', p = 50) => percentile(runs[index].map((run) => run[phase]), p);
  contenders.forEach(({ label, phases }, index) => {
    report(`${label}: start → prompt byte, p50`, ms(percentileOf(index, 'start')));
    report(`${label}: start → prompt byte, p95`, ms(percentileOf(index, 'start', 95)));
    report(`${label}:   ${phases}, p50`, `${ms(percentileOf(index, 'create'))} / ${ms(percentileOf(index, 'attach'))}`);
    report(`${label}:   teardown, p50`, ms(percentileOf(index, 'teardown')));
  });
  report('user-namespace / host-root, start → prompt, p50', `${(percentileOf(0, 'start') / percentileOf(1, 'start')).toFixed(2)} ×`, '≤ 1.2 ×');
}

// Something that starts an isolated shell: start() gives the id that shell() and stop() take;
// cleanUp() removes all it left on the machine, whether its runs went well or not.
interface Contender {
  label: string;
  phases: string;
  start: () => Promise<string>;
  shell: (id: string) => IPty;
  stop: (id: string) => Promise<void>;
  cleanUp: () => Promise<void>;
}

async function startToShell(contender: Contender) {
  const started = performance.now();
  const id = await contender.start();
  const created = performance.now();
  let prompted = NaN;
  try {
    const shell = contender.shell(id);
    try {
      await firstPrompt(shell);
    } finally {
      shell.kill();
    }
    prompted = performance.now();
  } finally {
    await contender.stop(id);
  }
  return { start: prompted - started, create: created - started, attach: prompted - created, teardown: performance.now() - prompted };
}

function firstPrompt(shell: IPty, timeoutMs = 20_000) {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const settle = (error?: Error) => {
      clearTimeout(timer);
      onData.dispose();
      onExit.dispose();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new Error(`no prompt within ${timeoutMs} ms; the shell wrote ${JSON.stringify(output)}`)), timeoutMs);
    const onData = shell.onData((chunk) => {
      output += chunk;
      if (chunk.includes('#')) settle();
    });
    const onExit = shell.onExit(({ exitCode }) => settle(new Error(`the shell exited with ${exitCode} before its prompt; it wrote ${JSON.stringify(output)}`)));
  });
}

// The engine, over a state dir of its own.
function sandboxContender(isolation: Isolation, stateDir: string): Contender {
  const { engine } = realEngine({ stateDir, isolation });
  return {
    label: `${isolation} sandbox`,
    phases: 'create / attach',
    start: async () => (await engine.create({ bench: 'isolation' })).id,
    shell: (id) => engine.attachTty(id, LOGIN_SHELL, TTY_SIZE),
    stop: (id) => engine.destroy(id),
    cleanUp: async () => {
      for (const sandbox of await engine.list()) await engine.destroy(sandbox.id);
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// The floor: `runc run -d`, then `runc exec -t`, over the lab image itself as a read-only root,
// with a sandbox's namespaces but no user namespace, overlay, tmpfs, limits or hook.
function bareRuncContender(stateDir: string): Contender {
  const { imageDir } = realEngine({ stateDir });
  const runcRoot = path.join(stateDir, 'runc');
  const bundle = (id: string) => path.join(stateDir, 'bundles', id);
  const runc = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      // `run -d` hands runc's stdio to the container's PID 1: give it none, and read runc's log on failure.
      const log = path.join(stateDir, 'runc.log');
      spawn('runc', ['--root', runcRoot, '--log', log, ...args], { stdio: 'ignore' })
        .on('error', reject)
        .on('exit', (code) => {
          if (code === 0) return resolve();
          const lastLine = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').pop() : '';
          reject(new Error(`runc ${args.join(' ')} exited with ${code}: ${lastLine}`));
        });
    });
  let started = 0;
  return {
    label: 'bare runc floor',
    phases: 'run -d / exec -t',
    start: async () => {
      const id = `wirelab-bench-${++started}`;
      fs.mkdirSync(bundle(id), { recursive: true });
      fs.writeFileSync(path.join(bundle(id), 'config.json'), JSON.stringify(bareSpec(imageDir, id)));
      await runc(['run', '--detach', '--bundle', bundle(id), id]);
      return id;
    },
    shell: (id) =>
      pty.spawn('runc', ['--root', runcRoot, 'exec', '--tty', '--env', 'TERM=xterm-256color', id, ...LOGIN_SHELL], {
        ...TTY_SIZE,
        name: 'xterm-256color',
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      }),
    stop: async (id) => {
      await runc(['delete', '--force', id]);
      fs.rmSync(bundle(id), { recursive: true });
    },
    cleanUp: async () => {
      for (const id of fs.existsSync(runcRoot) ? fs.readdirSync(runcRoot) : []) await runc(['delete', '--force', id]);
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function bareSpec(imageDir: string, id: string) {
  // Root needs CAP_DAC_OVERRIDE to read an image owned by the sandboxes' id range (/root is 0700).
  const capabilities = ['CAP_DAC_OVERRIDE'];
  return {
    ociVersion: '1.0.2',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['/usr/bin/tini', '--', 'sleep', 'infinity'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
      cwd: '/',
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
    },
    root: { path: imageDir, readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    ],
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type })),
      cgroupsPath: `/wirelab/${id}`,
    },
  };
}

async function keystrokeEcho() {
  const learner = new Learner(server.url);
  const { body } = await learner.request('POST', '/api/labs/orientation/session');
  const ws = learner.terminal(body.session.id);
  await waitForOutput(ws, /# $/);
  const samples: number[] = [];
  for (let key = 0; key < 200; key++) {
    const echoed = firstOutput(ws);
    const sent = performance.now();
    typeInto(ws, key % 2 === 0 ? 'x' : '\x7f');
    await echoed;
    samples.push(performance.now() - sent);
  }
  report('keystroke echo round trip, p50 (200 keys)', ms(percentile(samples, 50)), '≤ 5 ms');
  ws.close();
  await learner.request('DELETE', '/api/labs/orientation/session');
}

async function checkLatency() {
  // The issue's yardstick is a three-criterion exercise: take one, or the nearest in size.
  const [labId, exercise] = [...labs.values()]
    .flatMap((lab) => lab.exercises.map((e) => [lab.id, e] as const))
    .sort(([, a], [, b]) => Math.abs(a.checks.length - 3) - Math.abs(b.checks.length - 3))[0];
  const learner = new Learner(server.url);
  await learner.request('POST', `/api/labs/${labId}/session`);
  // The only sandbox this server runs now; the solution goes in as a learner would type it.
  const sandboxId = fs.readdirSync(path.join(STATE_DIR, 'sandboxes'))[0];
  execFileSync('runc', ['--root', path.join(STATE_DIR, 'runc'), 'exec', sandboxId, 'bash', '-e', '-c', exercise.solution], { stdio: 'ignore', timeout: 120_000 });
  const samples: number[] = [];
  for (let run = 0; run < 20; run++) {
    const started = performance.now();
    const answer = await learner.request('POST', `/api/labs/${labId}/exercises/${exercise.id}/check`, { trigger: 'button' });
    samples.push(performance.now() - started);
    if (!answer.body.passed) throw new Error(`the solved exercise ${labId}/${exercise.id} did not pass: ${JSON.stringify(answer.body)}`);
  }
  const label = `check ${labId}/${exercise.id} (${exercise.checks.length} criteria, solved)`;
  report(`${label}, p50`, ms(percentile(samples, 50)), '≤ 300 ms');
  report(`${label}, p95`, ms(percentile(samples, 95)));
  await learner.request('DELETE', `/api/labs/${labId}/session`);
}

// What a page watching a lab's live counters costs the machine, per sandbox: the sandbox's own CPU
// (its cgroup: the reader and the probes it runs each second) and the host's (the server, and the
// runc client that carries the reader's output), over 10 s windows, watched by one page and not
// watched, taken in turns three times (the server's own background work is noise at this scale;
// the median of each keeps it out), then once with five pages of the learner sharing the reader.
async function countersCost() {
  const WINDOW_MS = 10_000;
  const READER_GRACE_MS = 6000;
  const learner = new Learner(server.url);
  const { body } = await learner.request('POST', '/api/labs/rx-path/session');
  const counters = `/api/labs/rx-path/counters?session=${body.session.id}`;
  const sandboxId = fs.readdirSync(path.join(STATE_DIR, 'sandboxes'))[0];
  const sandboxCpu = () => Number(fs.readFileSync(`/sys/fs/cgroup/cpuacct/wirelab/${sandboxId}/cpuacct.usage`, 'utf8'));
  // Nanoseconds on CPU of each thread of the server's process tree on the host, but the sandbox's
  // own processes (its cgroup counts those); schedstat counts in ns where utime counts in 10 ms ticks.
  const hostCpu = () => {
    const threads = (pid: number) => fs.readdirSync(`/proc/${pid}/task`);
    const tree = (pid: number): number[] => [
      pid,
      ...threads(pid).flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number).flatMap(tree)),
    ];
    const nanoseconds = new Map<string, number>();
    for (const pid of tree(server.process.pid!)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(sandboxId)) continue;
        for (const tid of threads(pid)) nanoseconds.set(`${pid}/${tid}`, Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // gone meanwhile
      }
    }
    return nanoseconds;
  };
  // CPU milliseconds per second over one window, in the sandbox and on the host.
  const measure = async () => {
    const [sandboxBefore, hostBefore] = [sandboxCpu(), hostCpu()];
    await sleep(WINDOW_MS);
    const [sandboxAfter, hostAfter] = [sandboxCpu(), hostCpu()];
    const host = [...hostAfter].reduce((sum, [thread, spent]) => sum + spent - (hostBefore.get(thread) ?? 0), 0);
    const perSecond = (nanoseconds: number) => nanoseconds / 1e6 / (WINDOW_MS / 1000);
    return { sandbox: perSecond(sandboxAfter - sandboxBefore), host: perSecond(host) };
  };
  const median = (windows: { sandbox: number; host: number }[]) => ({
    sandbox: percentile(windows.map((window) => window.sandbox), 50),
    host: percentile(windows.map((window) => window.host), 50),
  });
  const describe = ({ sandbox, host }: { sandbox: number; host: number }) => `${(sandbox + host).toFixed(1)} ms/s (${ms(sandbox)} + ${ms(host)})`;
  const watch = async () => {
    const page = await learner.subscribe(counters);
    await page.until((event) => event.event === 'message');
    return page;
  };

  const unwatched = [];
  const watched = [];
  const firstSample = [];
  await sleep(READER_GRACE_MS);
  for (let round = 0; round < 3; round++) {
    unwatched.push(await measure());
    const started = performance.now();
    const page = await watch();
    firstSample.push(performance.now() - started);
    watched.push(await measure());
    await page.close();
    await sleep(READER_GRACE_MS);
  }
  const pages = [];
  for (let tab = 0; tab < 5; tab++) pages.push(await watch());
  const fivePages = await measure();
  await Promise.all(pages.map((page) => page.close()));
  await learner.request('DELETE', '/api/labs/rx-path/session');

  const [idle, one] = [median(unwatched), median(watched)];
  report('live counters: subscribe → first sample, p50 (rx-path)', ms(percentile(firstSample, 50)));
  report('CPU of an rx-path sandbox, unwatched (sandbox + host)', describe(idle));
  report('CPU of that sandbox, counters watched by 1 page', describe(one));
  report('CPU of that sandbox, counters watched by 5 pages', describe(fivePages));
  report('CPU per watched sandbox (1 page − unwatched)', `${(one.sandbox + one.host - idle.sandbox - idle.host).toFixed(1)} ms/s of a core`);
}

async function idleSandboxes() {
  const before = memAvailable();
  const learners: Learner[] = [];
  const started = performance.now();
  for (let i = 0; i < IDLE_SANDBOXES; i++) {
    const learner = new Learner(server.url);
    const answer = await learner.request('POST', '/api/labs/orientation/session');
    if (answer.status !== 200) throw new Error(`sandbox ${i + 1} did not start: ${JSON.stringify(answer.body)}`);
    learners.push(learner);
  }
  const startSeconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const used = before - memAvailable();
  const cgroupBytes = fs
    .readdirSync('/sys/fs/cgroup/memory/wirelab')
    .filter((id) => fs.existsSync(path.join(STATE_DIR, 'sandboxes', id)))
    .map((id) => Number(fs.readFileSync(`/sys/fs/cgroup/memory/wirelab/${id}/memory.usage_in_bytes`, 'utf8')));
  report(`${IDLE_SANDBOXES} idle sandboxes started (one after another)`, `${startSeconds.toFixed(1)} s`);
  report('memory per idle sandbox (machine MemAvailable drop)', mib(used / IDLE_SANDBOXES), '≤ 10 MiB');
  report('memory per idle sandbox (its own cgroup, mean)', mib(cgroupBytes.reduce((a, b) => a + b, 0) / cgroupBytes.length));
  // A learner who keeps the tab open also keeps a shell (bash, and runc exec on the host side).
  const beforeShells = memAvailable();
  const shells = await Promise.all(
    learners.slice(0, 10).map(async (learner) => {
      const { body } = await learner.request('GET', '/api/labs/orientation');
      const ws = learner.terminal(body.session.id);
      await waitForOutput(ws, /# $/);
      return ws;
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  report('memory per open terminal (10 shells)', mib((beforeShells - memAvailable()) / shells.length));
  for (const ws of shells) ws.close();
  const refused = await new Learner(server.url).request('POST', '/api/labs/orientation/session');
  report(`sandbox ${IDLE_SANDBOXES + 1}`, refused.status === 503 ? `refused: "${refused.body.error}"` : `status ${refused.status}`);
  const teardown = performance.now();
  await Promise.all(learners.map((learner) => learner.request('DELETE', '/api/labs/orientation/session')));
  report(`teardown of ${IDLE_SANDBOXES} sandboxes`, `${((performance.now() - teardown) / 1000).toFixed(1)} s`);
}

// How soon an instructor's live grid shows a learner's check, with a class of 30 at work: each
// learner, with a sandbox of their own, presses Check three times at random moments over 20 s,
// and the time from the request to the grid's event carrying that attempt is taken. The check's
// own grading (queued behind the others: WIRELAB_GRADING_CONCURRENCY) is part of it, as in class.
async function gridLatency() {
  const LEARNERS = 30;
  const CHECKS_EACH = 3;
  const SPREAD_MS = 20_000;
  const instructor = new Learner(server.url);
  const password = printedPassword(instructorCommand(dataDir, 'add', 'bench'));
  await instructor.request('POST', '/api/instructor/login', { name: 'bench', password });
  const { body } = await instructor.request('POST', '/api/instructor/workshops', { title: 'bench', labs: ['orientation'] });
  const learners = await Promise.all(Array.from({ length: LEARNERS }, async (_, i) => {
    const learner = new Learner(server.url);
    await learner.request('POST', `/api/join/${body.workshop.joinCode}`, { name: `learner ${i + 1}` });
    return learner;
  }));
  for (const learner of learners) {
    const started = await learner.request('POST', '/api/labs/orientation/session');
    if (started.status !== 200) throw new Error(`a sandbox did not start: ${JSON.stringify(started.body)}`);
  }
  const grid = await instructor.subscribe(`/api/instructor/workshops/${body.workshop.id}/events`);
  await grid.until((event) => event.data.type === 'grid');
  const samples: number[] = [];
  await Promise.all(learners.map(async (learner, i) => {
    for (let attempt = 1; attempt <= CHECKS_EACH; attempt++) {
      await sleep(Math.random() * (SPREAD_MS / CHECKS_EACH));
      const sent = performance.now();
      const answer = await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', { trigger: 'button' });
      if (answer.status !== 200) throw new Error(`a check failed: ${JSON.stringify(answer.body)}`);
      await grid.until((event) => event.data.type === 'row' && event.data.row.displayName === `learner ${i + 1}` && event.data.row.cells['orientation/loopback-up'].attempts === attempt, 30_000);
      samples.push(performance.now() - sent);
    }
  }));
  await grid.close();
  report(`grid update latency, ${LEARNERS} learners (${samples.length} checks), p50`, ms(percentile(samples, 50)));
  report(`grid update latency, ${LEARNERS} learners, p95`, ms(percentile(samples, 95)), '≤ 2 s');
  await Promise.all(learners.map((learner) => learner.request('DELETE', '/api/labs/orientation/session')));
}
