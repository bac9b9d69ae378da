import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { bundlesIn, leftovers, NOTHING_LEFT, untilSandboxesWithShell } from '../../support/sandboxes.ts';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../../support/server.ts';

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

// Resolves once the pool says, on /metrics, that this many sandboxes of the lab are ready to hand
// over: a sandbox's shell may exist a little before its prompt is drawn and the pool offers it.
async function untilPoolReady(server: RunningServer, labId: string, count: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then((response) => response.text());
    const ready = Number(metrics.match(new RegExp(`^wirelab_warm_pool_sandboxes\\{lab="${labId}"\\} (\\d+)`, 'm'))?.[1] ?? 0);
    if (ready >= count) return;
    if (Date.now() > deadline) throw new Error(`the pool had ${ready} ready sandbox(es) of ${labId}, not ${count}, after ${timeoutMs} ms`);
    await sleep(50);
  }
}
const METRICS_TOKEN = 'warm-pool-test-token';

async function withServer(options: { port: number; stateDir: string; env: Record<string, string>; dataDir?: string }, use: (server: RunningServer) => Promise<void>) {
  const server = await startServer(options);
  try {
    await use(server);
  } finally {
    await server.stop();
  }
}

describe('the warm pool', () => {
  test('Start lab hands over a warm sandbox, setup done and prompt drawn, and the pool refills', async () => {
    const stateDir = '/run/wirelab-test-pool-take';
    await withServer({ port: 3451, stateDir, env: { WIRELAB_WARM_POOL: 'orientation=1', WIRELAB_METRICS_TOKEN: METRICS_TOKEN } }, async (server) => {
      await untilPoolReady(server, 'orientation', 1);
      const [warm] = await untilSandboxesWithShell(stateDir, 1);
      // A mark only this warm sandbox has, so the learner's shell shows which sandbox it is.
      execFileSync('runc', ['--root', path.join(stateDir, 'runc'), 'exec', warm, 'sh', '-c', 'echo from-the-pool > /root/mark']);

      const learner = new Learner(server.url);
      const { status, body } = await learner.request('POST', '/api/labs/orientation/session');
      assert.equal(status, 200);
      const ws = learner.terminal(body.session.id);
      // The prompt is replayed from the warm shell: it comes at once.
      await waitForOutput(ws, /# $/, 2000);
      typeInto(ws, 'cat /root/mark; ip netns list\r');
      const seen = await waitForOutput(ws, /from-the-pool[\s\S]*fresh/);
      assert.match(seen, /from-the-pool/, 'the learner got the warm sandbox');
      ws.close();

      const [refilled] = await untilSandboxesWithShell(stateDir, 2).then((ids) => ids.filter((id) => id !== warm));
      assert.ok(refilled, 'a new warm sandbox took its place');
      // It is the learner's now: checks and `lab check` run in it, progress is recorded.
      const check = await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {});
      assert.equal(check.body.passed, false);
      assert.equal((await learner.request('GET', '/api/progress')).body.exercises['orientation/loopback-up'].attempts, 1);
      await learner.request('DELETE', '/api/labs/orientation/session');
    });
  });

  test('never holds sandboxes past the cap, and gives its place to a learner who needs it', async () => {
    const stateDir = '/run/wirelab-test-pool-cap';
    await withServer({ port: 3452, stateDir, env: { WIRELAB_WARM_POOL: 'orientation=3', WIRELAB_MAX_SANDBOXES: '2' } }, async (server) => {
      let most = 0;
      const watching = setInterval(() => (most = Math.max(most, bundlesIn(stateDir).length)), 10);
      try {
        await untilSandboxesWithShell(stateDir, 2);
        await sleep(1000);
        assert.equal(bundlesIn(stateDir).length, 2, 'two warm sandboxes fill the cap of two');

        // A lab the pool does not keep: one warm sandbox goes to make room.
        const first = await new Learner(server.url).request('POST', '/api/labs/netns-veth/session');
        assert.equal(first.status, 200);
        const second = await new Learner(server.url).request('POST', '/api/labs/orientation/session');
        assert.equal(second.status, 200, 'the remaining warm sandbox is handed over');
        const third = await new Learner(server.url).request('POST', '/api/labs/orientation/session');
        assert.equal(third.status, 503);
        await sleep(1000);
      } finally {
        clearInterval(watching);
      }
      assert.ok(most <= 2, `${most} sandboxes existed at once under a cap of 2`);
    });
  });

  test('a stop destroys the warm sandboxes; after a crash the next start sweeps them', async () => {
    const stateDir = '/run/wirelab-test-pool-stop';
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-pool-'));
    const env = { WIRELAB_WARM_POOL: 'orientation=1,netns-veth=1' };
    try {
      let stopped: string[] = [];
      await withServer({ port: 3453, stateDir, dataDir, env }, async () => {
        stopped = await untilSandboxesWithShell(stateDir, 2);
      });
      assert.deepEqual(leftovers(stateDir, stopped), NOTHING_LEFT);
      assert.deepEqual(bundlesIn(stateDir), []);

      const crashed = await startServer({ port: 3453, stateDir, dataDir, env });
      await untilSandboxesWithShell(stateDir, 2).finally(() => crashed.stop('SIGKILL'));
      const orphans = bundlesIn(stateDir);
      await withServer({ port: 3453, stateDir, dataDir, env: { WIRELAB_WARM_POOL: '0' } }, async (restarted) => {
        assert.match(restarted.output(), new RegExp(`swept ${orphans.length} left over`));
        assert.deepEqual(leftovers(stateDir, orphans), NOTHING_LEFT);
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
