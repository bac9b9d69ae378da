import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import WebSocket from 'ws';
import { leftovers, NOTHING_LEFT } from '../support/sandboxes.ts';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../support/server.ts';

const refusal = async (ws: WebSocket) => {
  const [error] = (await once(ws, 'error')) as [Error];
  return error.message;
};

describe('the server, over HTTP and WebSocket', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ port: 3211 });
  });
  after(() => server.stop());

  test('answers bad requests with a clear error and keeps serving', async () => {
    const learner = new Learner(server.url);
    assert.deepEqual(await learner.request('GET', '/api/labs/no-such-lab'), { status: 404, body: { error: 'There is no lab called "no-such-lab".' } });
    assert.equal((await learner.request('POST', '/api/labs/orientation/exercises/nope/check', {})).status, 404);
    assert.equal((await learner.request('GET', '/api/labs/orientation/session')).status, 405);
    const garbage = await fetch(`${server.url}/api/labs/orientation/exercises/loopback-up/check`, {
      method: 'POST', headers: { origin: server.url, 'content-type': 'application/json' }, body: '{"trigger": ',
    });
    assert.deepEqual([garbage.status, await garbage.json()], [400, { error: 'request body is not valid JSON' }]);
    const wrongField = await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', { trigger: 'psychic' });
    assert.equal(wrongField.status, 400);
    assert.match(wrongField.body.error, /trigger/);
    const crossSite = await fetch(`${server.url}/api/labs/orientation/session`, { method: 'POST', headers: { origin: 'https://evil.example' } });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(await learner.request('GET', '/api/health'), { status: 200, body: { ok: true } });
  });

  test('a learner\'s sandbox, terminal, checks and progress are theirs alone', async () => {
    const alice = new Learner(server.url);
    const mallory = new Learner(server.url);
    const { body } = await alice.request('POST', '/api/labs/orientation/session');
    const sessionId = body.session.id;
    await mallory.request('GET', '/api/progress');

    assert.match(await refusal(mallory.terminal(sessionId)), /404/, 'another learner cannot attach to the terminal');
    assert.match(await refusal(new WebSocket(`${server.url.replace('http', 'ws')}/api/sessions/${sessionId}/tty`, { headers: { origin: server.url, cookie: `wirelab_learner=${'0'.repeat(36)}.forged` } })), /404/, 'a forged cookie is nobody');
    assert.match(await refusal(alice.terminal(sessionId, 'lab', { origin: 'https://evil.example' })), /403/, 'another site cannot open it with her cookie');

    const check = await mallory.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {});
    assert.equal(check.status, 409, 'checks run only in the caller\'s own sandbox');
    const reset = await mallory.request('POST', '/api/labs/orientation/session/reset');
    assert.notEqual(reset.body.session.id, sessionId, 'a reset makes the caller a sandbox of their own');
    assert.equal((await alice.request('GET', '/api/labs/orientation')).body.session.id, sessionId, 'and leaves hers alone');

    await alice.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {});
    assert.equal((await alice.request('GET', '/api/progress')).body.exercises['orientation/loopback-up'].attempts, 1);
    assert.equal((await mallory.request('GET', '/api/progress')).body.exercises['orientation/loopback-up'], undefined);
    await alice.request('DELETE', '/api/labs/orientation/session');
    await mallory.request('DELETE', '/api/labs/orientation/session');
  });

  test('the terminal is a real shell that survives a reconnect, and `lab check` agrees with the page', async () => {
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const first = learner.terminal(body.session.id);
    await waitForOutput(first, /# $/);
    typeInto(first, 'echo "ünïcode $((6 * 7))" > /root/mark && cat /root/mark\r');
    await waitForOutput(first, /ünïcode 42/);
    first.close();

    const second = learner.terminal(body.session.id);
    await waitForOutput(second, /ünïcode 42/, 5000);
    typeInto(second, 'lab check\r');
    const failing = await waitForOutput(second, /not yet[\s\S]*# $/, 15_000);
    assert.match(failing, /✗ lo is up in namespace fresh/);
    typeInto(second, 'ip -n fresh link set lo up; lab check loopback-up; echo "status $?"\r');
    const passing = await waitForOutput(second, /status \d/, 15_000);
    assert.match(passing, /✓ lo is up in namespace fresh[\s\S]*✓ fresh answers a ping[\s\S]*status 0/);
    second.close();

    const page = await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {});
    assert.deepEqual([page.body.passed, page.body.completed], [true, true]);
    await learner.request('DELETE', '/api/labs/orientation/session');
  });

  test('a host tab is a shell inside that network namespace', async () => {
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    assert.deepEqual(body.session.hosts, ['lab', 'fresh']);
    const ws = learner.terminal(body.session.id, 'fresh');
    await waitForOutput(ws, /root@fresh/);
    typeInto(ws, 'ip netns identify $$\r');
    await waitForOutput(ws, /[\r\n]fresh\r\n/);
    ws.close();
    assert.match(await refusal(learner.terminal(body.session.id, 'elsewhere')), /404/);
    await learner.request('DELETE', '/api/labs/orientation/session');
  });
});

describe('capacity', () => {
  test('past the sandbox cap, a learner is told when to come back', async () => {
    const server = await startServer({ port: 3212, env: { WIRELAB_MAX_SANDBOXES: '1' } });
    try {
      const first = new Learner(server.url);
      assert.equal((await first.request('POST', '/api/labs/orientation/session')).status, 200);
      const second = await new Learner(server.url).request('POST', '/api/labs/orientation/session');
      assert.equal(second.status, 503);
      assert.match(second.body.error, /try again in about 30 minutes/);
      assert.equal(second.body.retryAfterMinutes, 30);
    } finally {
      await server.stop();
    }
  });
});

describe('a crash', () => {
  test('after SIGKILL the next start re-adopts running sandboxes; a deliberate stop leaves nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-crash-'));
    const stateDir = '/run/wirelab-test-crash';
    const crashed = await startServer({ port: 3213, dataDir, stateDir });
    const learner = new Learner(crashed.url);
    const { body } = await learner.request('POST', '/api/labs/netns-veth/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'echo survived > /root/note\r');
    await waitForOutput(ws, /note\r\n[\s\S]*# $/);
    await crashed.stop('SIGKILL');

    const restarted = await startServer({ port: 3213, dataDir, stateDir });
    assert.match(restarted.output(), /re-adopted 1 running sandbox/);
    const again = await learner.request('GET', '/api/labs/netns-veth');
    assert.equal(again.body.session.id, body.session.id, 'the same sandbox, after the restart');
    const shell = learner.terminal(body.session.id);
    await waitForOutput(shell, /# $/);
    typeInto(shell, 'cat /root/note\r');
    await waitForOutput(shell, /survived/);
    shell.close();

    const sandboxIds = fs.readdirSync(path.join(stateDir, 'sandboxes'));
    await restarted.stop('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
    assert.deepEqual(leftovers(stateDir, sandboxIds), NOTHING_LEFT);
  });

  test('a stop while sandboxes are starting and ending waits for them and leaves nothing', async () => {
    const stateDir = '/run/wirelab-test-stop';
    const server = await startServer({ port: 3215, stateDir });
    const ending = new Learner(server.url);
    await ending.request('POST', '/api/labs/orientation/session');
    const sandboxIds = fs.readdirSync(path.join(stateDir, 'sandboxes'));
    // Neither request is awaited: the stop arrives while one sandbox is torn down and one is set up.
    const inFlight = [ending.request('DELETE', '/api/labs/orientation/session'), new Learner(server.url).request('POST', '/api/labs/netns-veth/session')];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const starting = fs.readdirSync(path.join(stateDir, 'sandboxes'));
    await server.stop('SIGTERM');
    await Promise.allSettled(inFlight);
    assert.deepEqual(leftovers(stateDir, [...new Set([...sandboxIds, ...starting])]), NOTHING_LEFT);
    assert.deepEqual(fs.readdirSync(path.join(stateDir, 'sandboxes')), []);
  });

  test('sandboxes no database knows of are swept at start-up', async () => {
    const stateDir = '/run/wirelab-test-sweep';
    const first = await startServer({ port: 3214, stateDir });
    const learner = new Learner(first.url);
    await learner.request('POST', '/api/labs/orientation/session');
    await first.stop('SIGKILL');
    const orphans = fs.readdirSync(path.join(stateDir, 'sandboxes'));
    assert.equal(orphans.length, 1);

    // A fresh database: nobody owns the orphan any more.
    const second = await startServer({ port: 3214, stateDir });
    assert.match(second.output(), /swept 1 left over/);
    assert.deepEqual(leftovers(stateDir, orphans), NOTHING_LEFT);
    await second.stop();
  });
});
