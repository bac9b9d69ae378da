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
//   - resuming on a learner's kept files against a fresh start (click → prompt), and what the disk
//     under learners' files costs a start, against the same images in memory
// `npm run bench -- <figure>…` measures only the figures named (one file each, in this folder),
// without the build, on the site as last built.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../test/support/server.ts';
import checkLatency from './check-latency.ts';
import clickToPrompt from './click-to-prompt.ts';
import { mib, PORT, report, ROOT, STATE_DIR } from './common.ts';
import countersCost from './counters-cost.ts';
import firstLoadJavaScript from './first-load-javascript.ts';
import gridLatency from './grid-latency.ts';
import idleSandboxes from './idle-sandboxes.ts';
import isolationCost from './isolation-cost.ts';
import keptFiles from './kept-files.ts';
import keystrokeEcho from './keystroke-echo.ts';
import startToPrompt from './start-to-prompt.ts';

const FIGURES = { firstLoadJavaScript, startToPrompt, clickToPrompt, keptFiles, isolationCost, keystrokeEcho, checkLatency, countersCost, idleSandboxes, gridLatency };
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
  for (const [name, measure] of Object.entries(FIGURES)) if (chosen.length === 0 || chosen.includes(name)) await measure(server, dataDir);
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
