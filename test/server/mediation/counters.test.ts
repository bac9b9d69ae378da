import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { READER_IN_SANDBOX } from '../../../server/mediation/counter-sampling.ts';
import { Learner, startServer, type RunningServer, type ServerEvent } from '../../support/server.ts';

// The live counters panel over HTTP, against the real server and a real rx-path sandbox, whose
// counters are veth-b in blue, veth-r in red (rx_packets, tx_packets, rx_dropped, tx_dropped), and
// softnet_stat's processed column.
const PORT = 3231;
const STATE_DIR = `/run/wirelab-test-${PORT}`;
const COUNTERS = '/api/labs/rx-path/counters';
// The server's grace before it stops an unwatched reader, and a second to spare.
const GRACE_MS = 5000 + 1000;
const VETH_B = 0;
const VETH_R = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs a command in the (only) sandbox of this server, as root there; traffic stays in its namespaces.
function inSandbox(...command: string[]) {
  const [sandboxId, ...others] = fs.readdirSync(path.join(STATE_DIR, 'sandboxes'));
  assert.equal(others.length, 0, 'one sandbox on this server');
  return execFileSync('runc', ['--root', path.join(STATE_DIR, 'runc'), 'exec', sandboxId, ...command], { encoding: 'utf8', timeout: 30_000 });
}

// The sandbox's processes as `ps` lists them there, but for the ps itself.
const processes = () => inSandbox('ps', '-eo', 'pid=,args=').split('\n').map((line) => line.trim()).filter((line) => line && !/ ps -eo /.test(line));
const readers = () => processes().filter((line) => line.includes(`bash ${READER_IN_SANDBOX}`) && !line.includes('timeout'));

const rate = (event: ServerEvent, group: number, series: number) => event.data.groups[group]?.rates?.[series];

describe('the live counters of a lab', () => {
  let server: RunningServer;
  const alice = new Learner(`http://127.0.0.1:${PORT}`);
  let sessionId: string;

  before(async () => {
    server = await startServer({ port: PORT });
    const started = await alice.request('POST', '/api/labs/rx-path/session');
    assert.equal(started.status, 200, JSON.stringify(started.body));
    sessionId = started.body.session.id;
  });
  after(() => server.stop());

  test('are the learner\'s own: nobody else can watch them, and without a sandbox there is nothing to watch', async () => {
    const mallory = new Learner(server.url);
    const none = await mallory.request('GET', COUNTERS);
    assert.equal(none.status, 409);
    assert.match(none.body.error, /Start the lab first/);
    assert.equal((await mallory.request('GET', `${COUNTERS}?session=${sessionId}`)).status, 404, 'naming her session does not help');
    assert.equal((await alice.request('GET', `${COUNTERS}?session=${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`)).status, 404);
    const noCounters = await alice.request('GET', '/api/labs/orientation/counters');
    assert.equal(noCounters.status, 404);
    assert.match(noCounters.body.error, /shows no counters/);
  });

  test('move with the traffic in the sandbox, from one reader that all of the learner\'s pages share', async () => {
    const baseline = processes();
    const page = await alice.subscribe(`${COUNTERS}?session=${sessionId}`);
    await page.until((event) => rate(event, VETH_B, 0) === 0, 10_000);

    inSandbox('ip', 'netns', 'exec', 'red', 'ping', '-q', '-c', '25', '-i', '0.1', '10.0.0.2');
    const moving = await page.until((event) => rate(event, VETH_B, 0) > 0);
    assert.ok(rate(moving, VETH_R, 1) > 0, 'veth-r sent what veth-b received');
    const processed = rate(moving, 2, 0);
    assert.ok(Array.isArray(processed) && processed.length > 0, 'softnet counts per CPU');

    // A second tab gets the last seconds at once, and no second reader is started for it.
    const secondTab = await alice.subscribe(COUNTERS);
    await secondTab.until((event) => event.data.t === moving.data.t, 2000);
    assert.equal(readers().length, 1, 'one reader for the sandbox');

    await Promise.all([page.close(), secondTab.close()]);
    await sleep(GRACE_MS);
    assert.deepEqual(readers(), [], 'the reader is gone once nobody watches');
    assert.deepEqual(processes().map(command), baseline.map(command), 'and nothing else was left behind');
  });

  test('say what they wait for, and come back after a learner kills the reader', async () => {
    const page = await alice.subscribe(COUNTERS);
    inSandbox('ip', 'netns', 'del', 'blue');
    const waiting = await page.until((event) => event.data.groups[VETH_B].waiting !== undefined);
    assert.equal(waiting.data.groups[VETH_B].waiting, 'waiting for veth-b in blue');
    assert.equal(waiting.data.groups[VETH_R].waiting, 'waiting for veth-r in red', 'its peer went with it');

    const [reader] = readers();
    inSandbox('kill', reader.split(' ')[0]);
    await page.closed;
    assert.ok(!page.received.some((event) => event.event === 'end'), 'the page is not told to give up: it reconnects');
    const again = await alice.subscribe(COUNTERS);
    await again.until((event) => event.data.t > waiting.data.t && event.data.groups[VETH_B].waiting === 'waiting for veth-b in blue');
    assert.equal(readers().length, 1);
    await again.close();
  });

  test('end for good, with the reason, when the session ends', async () => {
    const page = await alice.subscribe(COUNTERS);
    await page.until((event) => event.event === 'message');
    await alice.request('DELETE', '/api/labs/rx-path/session');
    const end = await page.until((event) => event.event === 'end');
    assert.match(end.data.reason, /sandbox ended/);
    await page.closed;
    assert.equal((await alice.request('GET', COUNTERS)).status, 409);
  });
});

// "1234 bash -l" → "bash -l": pids differ from one listing to the next, commands should not.
function command(line: string) {
  return line.replace(/^\d+\s+/, '');
}
