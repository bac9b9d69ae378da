import type { RunningServer } from '../../test/support/server.ts';
import { percentile, ms, report } from './common.ts';
import { startToShell, sandboxContender, bareRuncContender } from './contenders.ts';

// What the user namespace costs a learner who starts a lab: the engine's two isolation modes and
// bare runc, each from nothing to the first byte of a login shell's prompt, 20 runs each, taken in
// turns (in reverse order every other round) so that the machine's noise, and the kernel's work
// left over from the previous teardown, fall on all of them alike. Teardown is timed apart.
export default async function isolationCost(server: RunningServer) {
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
