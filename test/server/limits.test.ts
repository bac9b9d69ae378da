import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { clientOf, trustedProxySet } from '../../server/limits/client-address.ts';
import { parseRate } from '../../server/limits/rate.ts';
import { TokenBuckets } from '../../server/limits/token-buckets.ts';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../support/server.ts';
import { scrape } from '../support/metrics.ts';

const METRICS_TOKEN = 'limits-test-metrics-token';

describe('the abuse limits of a real server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      port: 3400,
      env: {
        // The test talks through a pretend proxy on loopback, so that every test is a client of its own.
        WIRELAB_TRUSTED_PROXIES: '127.0.0.1',
        WIRELAB_RATE_NEW_LEARNERS: '3/hour',
        WIRELAB_RATE_SANDBOX_STARTS: '3/hour',
        WIRELAB_RATE_CHECKS: '2/hour',
        WIRELAB_MAX_SANDBOXES_PER_LEARNER: '2',
        WIRELAB_TERMINALS_PER_SESSION: '2',
        WIRELAB_TERMINAL_INPUT_KIB_PER_SECOND: '16',
        WIRELAB_METRICS_TOKEN: METRICS_TOKEN,
      },
    });
  });
  after(() => server.stop());

  const from = (address: string) => new Learner(server.url, { 'x-forwarded-for': address });

  test('a client that makes too many new learners is refused with 429, Retry-After and a sentence; pages still open', async () => {
    const known = from('198.51.100.1');
    assert.equal((await known.request('GET', '/api/progress')).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await from('198.51.100.1').request('GET', '/api/progress')).status, 200);

    const refused = await from('198.51.100.1').exchange('GET', '/api/progress');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1200', 'one new learner every 20 minutes at 3/hour');
    assert.deepEqual(refused.body, { error: 'Too many new visitors from your network in a short time: try again in about 20 minutes.', retryAfterSeconds: 1200 });

    const page = await fetch(`${server.url}/`, { headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(page.status, 200, 'reading a chapter costs nothing');
    assert.equal(page.headers.get('set-cookie'), null, 'but it makes no learner');
    assert.equal((await known.request('GET', '/api/progress')).status, 200, 'a learner made earlier carries on');
    assert.equal((await from('198.51.100.2').request('GET', '/api/progress')).status, 200, 'another client has its own allowance');
  });

  test('X-Forwarded-For counts only from a trusted proxy', async () => {
    // Connected from 127.0.0.2, which is no trusted proxy: whatever the header says, the client is 127.0.0.2.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await statusFrom('127.0.0.2', `${server.url}/api/progress`, { 'x-forwarded-for': `203.0.113.${i}` }));
    assert.deepEqual(statuses, [200, 200, 200, 429]);

    const trusted = trustedProxySet(['10.0.0.1', '10.0.0.2']);
    const behind = (peer: string, forwardedFor: string) => clientOf({ socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': forwardedFor } } as never, trusted);
    assert.equal(behind('::ffff:10.0.0.1', '192.0.2.9, 10.0.0.2'), '192.0.2.9', 'the first address from the right that no trusted proxy owns');
    assert.equal(behind('10.0.0.1', '192.0.2.66, 192.0.2.9'), '192.0.2.9', 'what the client wrote itself, to the left, is not believed');
    assert.equal(behind('192.0.2.7', '192.0.2.9'), '192.0.2.7');
    assert.equal(behind('2001:db8:1:2:aaaa::1', ''), '2001:db8:1:2::/64', 'an IPv6 client is its /64');
    assert.throws(() => trustedProxySet(['proxy.example']), /WIRELAB_TRUSTED_PROXIES: "proxy.example" is not an IP address/);
  });

  test('sandbox starts past the client\'s allowance are refused, and a refused Reset leaves the sandbox as it was', async () => {
    const alice = from('198.51.100.10');
    const bob = from('198.51.100.10');
    const started = await alice.request('POST', '/api/labs/orientation/session');
    assert.equal(started.status, 200);
    assert.equal((await alice.request('POST', '/api/labs/orientation/session')).body.session.id, started.body.session.id, 'a reload reuses the sandbox and costs nothing');
    const reset = await alice.request('POST', '/api/labs/orientation/session/reset');
    assert.equal(reset.status, 200);
    assert.equal((await bob.request('POST', '/api/labs/orientation/session')).status, 200);

    const refusedReset = await alice.exchange('POST', '/api/labs/orientation/session/reset');
    assert.equal(refusedReset.status, 429);
    // The wait counts down from the 20-minute window while the test runs: a loaded machine may have
    // spent a few seconds of it already.
    const retryAfter = Number(refusedReset.headers.get('retry-after'));
    assert.ok(retryAfter > 1200 - 60 && retryAfter <= 1200, `Retry-After ${retryAfter} is the rest of the 20-minute window`);
    assert.match(refusedReset.body.error, /^Too many lab sandboxes were started from your network in a short time: try again in about 20 minutes\.$/);
    assert.equal((await alice.request('GET', '/api/labs/orientation')).body.session.id, reset.body.session.id);

    const carol = from('198.51.100.10');
    assert.equal((await carol.exchange('POST', '/api/labs/netns-veth/session')).status, 429);
    assert.equal((await carol.request('GET', '/api/labs/netns-veth')).body.session, null, 'no sandbox was started');
    await alice.request('DELETE', '/api/labs/orientation/session');
    await bob.request('DELETE', '/api/labs/orientation/session');
  });

  test('at most one sandbox per learner and lab, and a cap across labs', async () => {
    const learner = from('198.51.100.20');
    await learner.request('GET', '/api/progress');
    const twice = await Promise.all([learner.request('POST', '/api/labs/orientation/session'), learner.request('POST', '/api/labs/orientation/session')]);
    assert.equal(twice[0].body.session.id, twice[1].body.session.id, 'two clicks at once make one sandbox');
    assert.equal((await learner.request('POST', '/api/labs/netns-veth/session')).status, 200);

    const third = await learner.exchange('POST', '/api/labs/router/session');
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    assert.equal(third.body.error, 'You already have 2 lab sandboxes running (orientation, netns-veth): end one with its End button, then start this one.');
    // The refused start cost none of the client's three starts an hour: with one sandbox ended, the third start is granted.
    await learner.request('DELETE', '/api/labs/orientation/session');
    assert.equal((await learner.request('POST', '/api/labs/router/session')).status, 200);
    await learner.request('DELETE', '/api/labs/router/session');
    await learner.request('DELETE', '/api/labs/netns-veth/session');
  });

  test('checks past the allowance are refused, on the page and with `lab check` in the terminal', async () => {
    const learner = from('198.51.100.30');
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const check = () => learner.exchange('POST', '/api/labs/orientation/exercises/loopback-up/check', {});
    assert.equal((await check()).status, 200);
    assert.equal((await check()).status, 200);
    const refused = await check();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1800');
    assert.equal(refused.body.error, 'Too many checks in a short time: try again in about 30 minutes.');

    // The terminal's checks come from inside the sandbox: the learner's own allowance.
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'for i in 1 2 3; do lab check loopback-up >/dev/null 2>&1; echo "status $?"; done; lab check loopback-up\r');
    const seen = await waitForOutput(ws, /lab: Too many checks[^\n]*\n[\s\S]*# $/, 20_000);
    assert.match(seen, /status 1\r?\nstatus 1\r?\nstatus 1/, 'two checks that ran (not yet passing), then one refused');
    assert.match(seen, /lab: Too many checks in a short time: try again in about 30 minutes\./);
    ws.close();

    const metrics = await scrape(server.url, METRICS_TOKEN);
    assert.ok(metrics.value('wirelab_refusals_total', { reason: 'checks' }) >= 2);
    await learner.request('DELETE', '/api/labs/orientation/session');
  });

  test('a session\'s terminal sockets are bounded; the one too many is told why, and may come back', async () => {
    const learner = from('198.51.100.40');
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const first = learner.terminal(body.session.id);
    const second = learner.terminal(body.session.id, 'fresh');
    await Promise.all([waitForOutput(first, /# $/), waitForOutput(second, /fresh/)]);

    const third = learner.terminal(body.session.id);
    const notices: unknown[] = [];
    third.on('message', (data, isBinary) => !isBinary && notices.push(JSON.parse(data.toString())));
    const [code] = (await once(third, 'close')) as [number];
    assert.equal(code, 4429);
    assert.deepEqual(notices, [{
      type: 'refused',
      message: 'This lab already has 2 terminals open: close another browser tab showing it, then this one reconnects by itself.',
      retryAfterSeconds: 10,
    }]);

    second.close();
    await once(second, 'close');
    const again = learner.terminal(body.session.id);
    await waitForOutput(again, /# $/);
    first.close();
    again.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
  });

  test('a terminal flooded with input is slowed to its rate, and the server keeps serving', async () => {
    const learner = from('198.51.100.50');
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    const before = await scrape(server.url, METRICS_TOKEN);

    const chunk = JSON.stringify({ type: 'input', data: 'x'.repeat(60 * 1024) });
    const floodBytes = 24 * 1024 * 1024;
    const startedAt = Date.now();
    for (let sent = 0; sent < floodBytes; sent += chunk.length) ws.send(chunk);
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const health = await learner.request('GET', '/api/health');
    assert.equal(health.status, 200, 'the server answers while the flood lasts');
    const metrics = await scrape(server.url, METRICS_TOKEN);
    const received = metrics.value('wirelab_websocket_bytes_total', { direction: 'in' }) - before.value('wirelab_websocket_bytes_total', { direction: 'in' });
    const seconds = (Date.now() - startedAt) / 1000;
    // 16 KiB/s after a 4-second burst, plus what was already in flight when the socket paused.
    const allowed = 16 * 1024 * (4 + seconds) + 1024 * 1024;
    assert.ok(received <= allowed, `the server took ${received} bytes of the flood in ${seconds.toFixed(1)} s; at most ${allowed} expected`);
    assert.ok(ws.bufferedAmount > 0, 'the rest waits on the sender\'s side: TCP pushes back once the kernel\'s buffers are full');
    assert.ok(metrics.value('wirelab_terminal_input_pauses_total') > before.value('wirelab_terminal_input_pauses_total'));
    assert.equal(ws.readyState, WebSocket.OPEN, 'slowed, not cut off');
    ws.terminate();
    await learner.request('DELETE', '/api/labs/orientation/session');
  });
});

describe('the limiter\'s parts', () => {
  test('a token bucket lets a burst through, then one at the rate, and says how long to wait', () => {
    let now = 0;
    const buckets = new TokenBuckets({ count: 3, perMs: 60_000 }, () => now);
    assert.deepEqual([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a')], [0, 0, 0, 20]);
    assert.equal(buckets.take('b'), 0, 'each key has its own bucket');
    now += 19_000;
    assert.equal(buckets.take('a'), 1);
    now += 1_000;
    assert.equal(buckets.take('a'), 0);
  });

  test('rates are written as a count per second, minute or hour, or off', () => {
    assert.deepEqual(parseRate('X', '300/hour'), { count: 300, perMs: 3_600_000 });
    assert.deepEqual(parseRate('X', ' 10 / second '), { count: 10, perMs: 1000 });
    assert.equal(parseRate('X', 'off'), null);
    assert.throws(() => parseRate('WIRELAB_RATE_CHECKS', '10 per minute'), /WIRELAB_RATE_CHECKS: expected a rate such as 300\/hour/);
    assert.throws(() => parseRate('X', '0/minute'), /expected a rate/);
  });
});

// A request from another loopback address than the test's usual 127.0.0.1.
function statusFrom(localAddress: string, url: string, headers: Record<string, string>) {
  return new Promise<number>((resolve, reject) => {
    const req = http.get(url, { localAddress, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
  });
}
