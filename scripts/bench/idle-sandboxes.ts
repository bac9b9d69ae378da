import fs from 'node:fs';
import path from 'node:path';
import { memAvailable } from '../../server/sandboxes/mem-available.ts';
import { Learner, waitForOutput } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { STATE_DIR, IDLE_SANDBOXES, mib, report } from './common.ts';

export default async function idleSandboxes(server: RunningServer) {
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
