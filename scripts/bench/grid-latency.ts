import { instructorCommand, printedPassword } from '../../test/support/instructors.ts';
import { Learner } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { percentile, ms, sleep, report } from './common.ts';

// How soon an instructor's live grid shows a learner's check, with a class of 30 at work: each
// learner, with a sandbox of their own, presses Check three times at random moments over 20 s,
// and the time from the request to the grid's event carrying that attempt is taken. The check's
// own grading (queued behind the others: WIRELAB_GRADING_CONCURRENCY) is part of it, as in class.
export default async function gridLatency(server: RunningServer, dataDir: string) {
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
