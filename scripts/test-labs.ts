// The self-test of every graded exercise, as Instruqt's `track test` does it: in a fresh sandbox,
// run the lab's setup, show every check failing (unless the exercise declares it passes from the
// start, and why), apply the reference solution, show every check passing, destroy the sandbox.
// Then resume on the files it left, as a learner back from lunch does: the setup must run again
// and leave every file the solution wrote as it was (a log may have grown).
//   npm run test:labs [lab-id | labs/<id>/lab.ts ...]   (a file: a lab being written, not registered yet)
import path from 'node:path';
import { labs } from '../labs/index.ts';
import { validateLab, type Exercise, type Lab } from '../labs/define-lab.ts';
import { Grader } from '../server/grading/grader.ts';
import { missingFeatures, probeKernelFeatures } from '../server/sandboxes/kernel-features.ts';
import { applyHostSysctls } from '../server/mediation/knobs.ts';
import { serveLabCommand } from '../server/mediation/lab-command.ts';
import { startLabSandbox } from '../server/sandboxes/lab-sandbox.ts';
import { Tracer } from '../server/mediation/tracing.ts';
import { realEngine } from '../test/support/sandboxes.ts';

const PARALLEL = 2;
const SOLUTION_TIMEOUT_MS = 120_000;

const { engine } = realEngine();
const grader = new Grader(engine, PARALLEL);
const tracer = new Tracer(PARALLEL);
// What the server sets on the host for every sandbox, labs may rely on.
applyHostSysctls();
const wanted = process.argv.slice(2);
const files = wanted.filter((argument) => argument.endsWith('.ts'));
const ids = wanted.filter((argument) => !argument.endsWith('.ts'));
const unknown = ids.filter((id) => !labs.has(id));
if (unknown.length) {
  console.error(`no such lab: ${unknown.join(', ')} (labs: ${[...labs.keys()].join(', ')})`);
  process.exit(2);
}
const unregistered = await Promise.all(
  files.map(async (file) => validateLab((await import(path.resolve(file))).default, file)),
);
const chosen = [...[...labs.values()].filter((lab) => wanted.length === 0 || ids.includes(lab.id)), ...unregistered];
// A lab that needs what this kernel lacks (the `esp` variant of Part 5 on a kernel without
// CONFIG_INET_ESP) cannot be tested here: it is named, with the reason, and not counted as passed.
const support = await probeKernelFeatures(engine);
const notHere = chosen.filter((lab) => missingFeatures(support, lab.requires).length > 0);
const jobs = chosen.filter((lab) => !notHere.includes(lab)).flatMap((lab) => lab.exercises.map((exercise) => ({ lab, exercise })));
for (const lab of notHere) {
  for (const exercise of lab.exercises) console.log(`– ${lab.id}/${exercise.id} not run: this kernel lacks ${missingFeatures(support, lab.requires).join(', ')}`);
}

// Every regular file in /root and /etc changed since the marker, with its size and the hash of its
// content; given sizes, the hash of that many first bytes, so a file that only grew still matches.
const SOLUTION_STARTED = '/run/wirelab-solution-started';
const listWritten = `find /root /etc -xdev -type f -newer ${SOLUTION_STARTED} -printf '%s %p\\n' | while read -r size file; do echo "$size $(head -c "$size" "$file" | sha256sum | cut -c1-16) $file"; done`;
const hashPrefixes = `while read -r size hash file; do echo "$size $( [ -f "$file" ] && head -c "$size" "$file" | sha256sum | cut -c1-16 || echo gone) $file"; done`;

async function selfTest(lab: Lab, exercise: Exercise, volume: string): Promise<string[]> {
  const problems: string[] = [];
  const sandbox = await startLabSandbox(engine, lab, { purpose: 'self-test' }, { volume });
  let written = '';
  // The solution may use the \`lab\` command (lab trace, lab set) as a learner would.
  const stopLabCommand = serveLabCommand({ sandbox, lab, engine, tracer, check: (e) => grader.grade(sandbox.id, e) });
  try {
    const before = await grader.grade(sandbox.id, exercise);
    for (const result of before.results) {
      const expectedToPass = exercise.initiallyPassing?.[result.name] !== undefined;
      if (result.passed !== expectedToPass) {
        problems.push(`before the solution, "${result.name}" ${result.passed ? 'already passes' : `fails (${result.message})`}`);
      }
    }
    await engine.exec(sandbox.id, ['touch', SOLUTION_STARTED], { timeoutMs: 5_000, maxOutputBytes: 4096 });
    const solution = await engine.exec(sandbox.id, ['bash', '-e', '-c', exercise.solution], { timeoutMs: SOLUTION_TIMEOUT_MS, maxOutputBytes: 1024 * 1024 });
    if (solution.exitCode !== 0) problems.push(`the reference solution exited with ${solution.exitCode}: ${(solution.stderr || solution.stdout).trim().split('\n').slice(-3).join(' / ')}`);
    const after = await grader.grade(sandbox.id, exercise);
    for (const result of after.results.filter((r) => !r.passed)) problems.push(`after the solution, "${result.name}" fails: ${result.message}`);
    written = (await engine.exec(sandbox.id, ['bash', '-c', listWritten], { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 })).stdout;
  } finally {
    stopLabCommand();
    await engine.destroy(sandbox.id);
  }
  return [...problems, ...(await resumeKeepsFiles(lab, volume, written))];
}

async function resumeKeepsFiles(lab: Lab, volume: string, written: string): Promise<string[]> {
  const resumed = await startLabSandbox(engine, lab, { purpose: 'self-test' }, { volume, resuming: true }).catch(
    (error: Error) => error,
  );
  if (resumed instanceof Error) return [`resuming on the kept files: ${resumed.message}`];
  try {
    const now = await engine.exec(resumed.id, ['bash', '-c', hashPrefixes], { stdin: written, timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 });
    const before = new Set(written.split('\n').filter(Boolean));
    return now.stdout
      .split('\n')
      .filter((line) => line && !before.has(line))
      .map((line) => `resuming on the kept files, the setup ${line.includes(' gone ') ? 'removed' : 'overwrote'} ${line.split(' ').slice(2).join(' ')}, which the solution wrote`);
  } finally {
    await engine.destroy(resumed.id);
  }
}

let passed = 0;
let failed = 0;
const queue = [...jobs];
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const started = performance.now();
      const name = `${job.lab.id}/${job.exercise.id}`;
      const volume = `self-test.${job.lab.id}.${job.exercise.id}`;
      const problems = await selfTest(job.lab, job.exercise, volume)
        .catch((error: unknown) => [`could not run: ${error instanceof Error ? error.message : String(error)}`])
        .finally(() => engine.deleteVolume(volume));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (problems.length === 0) {
        passed++;
        console.log(`✓ ${name} (${seconds} s)`);
      } else {
        failed++;
        console.log(`✗ ${name} (${seconds} s)\n${problems.map((p) => `    ${p}`).join('\n')}`);
      }
    }
  }),
);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
