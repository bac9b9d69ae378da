import fs from 'node:fs';
import path from 'node:path';
import { Learner } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { STATE_DIR, percentile, ms, sleep, report } from './common.ts';

// What a page watching a lab's live counters costs the machine, per sandbox: the sandbox's own CPU
// (its cgroup: the reader and the probes it runs each second) and the host's (the server, and the
// runc client that carries the reader's output), over 10 s windows, watched by one page and not
// watched, taken in turns three times (the server's own background work is noise at this scale;
// the median of each keeps it out), then once with five pages of the learner sharing the reader.
export default async function countersCost(server: RunningServer) {
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
