import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { labs } from '../../labs/index.ts';
import { Grader } from '../../server/grading/grader.ts';
import { startLabSandbox } from '../../server/sandboxes/lab-sandbox.ts';
import { EXEC, realEngine } from '../support/sandboxes.ts';

const HOST_FORWARDING = '/proc/sys/net/ipv4/ip_forward';

// Every new network namespace copies IPv4 forwarding from the host's (devinet_init_net()), so on
// a host that forwards, as any host running containers does, the router lab could pass before
// the learner turned forwarding on. Its setup must hold there too.
test('the router lab starts with forwarding off even on a host that forwards', async () => {
  const { engine } = realEngine({ stateDir: '/run/wirelab-test-router' });
  const router = labs.get('router')!;
  const [exercise] = router.exercises;
  const hostBefore = fs.readFileSync(HOST_FORWARDING, 'utf8').trim();
  fs.writeFileSync(HOST_FORWARDING, '1');
  try {
    const sandbox = await startLabSandbox(engine, router, { purpose: 'test' });
    try {
      const grader = new Grader(engine, 1);
      const before = await grader.grade(sandbox.id, exercise);
      const forwarding = before.results.find((result) => result.name.startsWith('router forwards'))!;
      assert.equal(forwarding.passed, false, 'router must not forward before the learner asks it to');
      assert.equal(before.passed, false);

      const solved = await engine.exec(sandbox.id, ['bash', '-e', '-c', exercise.solution], EXEC);
      assert.equal(solved.exitCode, 0, solved.stderr);
      assert.equal((await grader.grade(sandbox.id, exercise)).passed, true);
    } finally {
      await engine.destroy(sandbox.id);
    }
  } finally {
    fs.writeFileSync(HOST_FORWARDING, hostBefore);
  }
});
