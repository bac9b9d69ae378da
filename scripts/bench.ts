// `npm run bench`: the figures the issues set targets for, measured on this machine and printed
// (never asserted: timing belongs here, not in tests). Runs the real server on a port of its own.
//   - production build time and a chapter's first-load JavaScript (gzip), measured in chromium
//   - "Start lab" → first prompt byte over the WebSocket, p50/p95 over 20 runs
//   - keystroke echo round trip, p50
//   - memory per idle sandbox and 100 idle sandboxes at once, the 101st refused, teardown time
//   - check latency of a three-criterion exercise, p50/p95
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from '@playwright/test';
import { labs } from '../labs/index.ts';
import { Learner, startServer, waitForOutput, typeInto } from '../test/support/server.ts';
import type WebSocket from 'ws';

const ROOT = path.resolve(import.meta.dirname, '..');
const PORT = 3150;
const STATE_DIR = '/run/wirelab-bench';
const CHAPTER = '/learn/under-the-hood';
const IDLE_SANDBOXES = 100;

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const report = (label: string, value: string, target = '') => console.log(`${label.padEnd(52)} ${value.padEnd(26)} ${target && `target ${target}`}`);

function memAvailable() {
  const line = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m)!;
  return Number(line[1]) * 1024;
}

function firstOutput(ws: WebSocket) {
  return new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('message', () => {
      ws.off('error', reject);
      resolve();
    });
  });
}

console.log('wirelab bench — this machine:', `${os.cpus().length} cores, ${mib(os.totalmem())} RAM, kernel ${os.release()}\n`);

// A cold build: without Next's cache, as on a fresh clone.
fs.rmSync(path.join(ROOT, '.next', 'cache'), { recursive: true, force: true });
const buildStarted = performance.now();
const build = spawnSync('npx', ['next', 'build'], { cwd: ROOT, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
report('production build (next build, no cache)', `${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-bench-'));
const server = await startServer({ port: PORT, dataDir, stateDir: STATE_DIR });
try {
  await firstLoadJavaScript();
  await startToPrompt();
  await keystrokeEcho();
  await checkLatency();
  await idleSandboxes();
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// What a browser really downloads to show a chapter (xterm.js is not among it: it loads with the lab).
async function firstLoadJavaScript() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    const scripts = new Map<string, Promise<Buffer>>();
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.set(response.url(), response.body());
    });
    await page.goto(server.url + CHAPTER, { waitUntil: 'networkidle' });
    let gzipped = 0;
    for (const body of scripts.values()) gzipped += zlib.gzipSync(await body, { level: 9 }).length;
    report(`chapter first-load JavaScript (${CHAPTER})`, `${(gzipped / 1024).toFixed(1)} KB gzip in ${scripts.size} files`, '≤ 200 KB');
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
