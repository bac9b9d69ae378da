import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { labs } from '../../labs/index.ts';
import { Learner } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { STATE_DIR, percentile, ms, report } from './common.ts';

export default async function checkLatency(server: RunningServer) {
  // The yardstick is a three-criterion exercise: take one, or the nearest in size.
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
