import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../../support/server.ts';
import { parseMetrics, scrape } from '../../support/metrics.ts';

const TOKEN = 'metrics-test-token-0123456789';

describe('/metrics on the site\'s port, behind a token', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ port: 3410, env: { WIRELAB_METRICS_TOKEN: TOKEN, WIRELAB_RATE_CHECKS: '3/hour' } });
  });
  after(() => server.stop());

  test('is refused without the token', async () => {
    const bare = await fetch(`${server.url}/metrics`);
    assert.equal(bare.status, 401);
    assert.equal(bare.headers.get('www-authenticate'), 'Bearer realm="wirelab metrics"');
    assert.match(await bare.text(), /WIRELAB_METRICS_TOKEN/);
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
  });

  test('shows a start, a terminal and a check move their series', async () => {
    const before = await scrape(server.url, TOKEN);
    for (const series of ['wirelab_warm_pool_sandboxes', 'wirelab_sqlite_errors_total', 'wirelab_process_resident_memory_bytes']) {
      assert.match(before.text, new RegExp(`^# HELP ${series} `, 'm'));
    }
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'echo metered\r');
    await waitForOutput(ws, /metered\r\n/);
    assert.equal((await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {})).status, 200);

    const during = await scrape(server.url, TOKEN);
    const moved = (name: string, labels?: Record<string, string>) => during.value(name, labels) - before.value(name, labels);
    assert.equal(moved('wirelab_sandbox_starts_total', { lab: 'orientation' }), 1);
    assert.equal(during.value('wirelab_sandbox_start_seconds_count', { lab: 'orientation' }), 1);
    assert.ok(during.value('wirelab_sandbox_start_seconds_sum', { lab: 'orientation' }) > 0);
    assert.equal(during.value('wirelab_sandbox_start_failures_total', { lab: 'orientation' }), 0);
    assert.equal(during.value('wirelab_check_seconds_count', { lab: 'orientation', trigger: 'button' }), 1);
    assert.equal(during.value('wirelab_check_seconds_bucket', { lab: 'orientation', trigger: 'button', le: '+Inf' }), 1);
    assert.equal(during.value('wirelab_sandboxes', { state: 'running' }), 1);
    assert.equal(during.value('wirelab_terminal_connections'), 1);
    assert.ok(moved('wirelab_websocket_bytes_total', { direction: 'in' }) >= 'echo metered\r'.length);
    assert.ok(moved('wirelab_websocket_bytes_total', { direction: 'out' }) > 0);

    ws.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
    const after = await scrape(server.url, TOKEN);
    assert.equal(after.value('wirelab_sandboxes', { state: 'running' }), 0);
    assert.equal(after.value('wirelab_terminal_connections'), 0);
  });

  test('a refused request counts under its reason', async () => {
    const learner = new Learner(server.url);
    await learner.request('POST', '/api/labs/orientation/session');
    const before = await scrape(server.url, TOKEN);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await learner.request('POST', '/api/labs/orientation/exercises/loopback-up/check', {})).status);
    assert.deepEqual(statuses, [200, 200, 429], 'three checks an hour, one of them spent by the test before');
    const after = await scrape(server.url, TOKEN);
    assert.equal(after.value('wirelab_refusals_total', { reason: 'checks' }) - before.value('wirelab_refusals_total', { reason: 'checks' }), 1);
    assert.equal(after.value('wirelab_refusals_total', { reason: 'sandbox-starts' }), 0);
    await learner.request('DELETE', '/api/labs/orientation/session');
  });
});

describe('/metrics on a listener of its own', () => {
  test('answers there without a token, and is not served on the site\'s port', async () => {
    const server = await startServer({ port: 3411, env: { WIRELAB_METRICS_PORT: '3412' } });
    try {
      const own = await fetch('http://127.0.0.1:3412/metrics');
      assert.equal(own.status, 200);
      assert.match(own.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(parseMetrics(await own.text()).value('wirelab_sandboxes', { state: 'starting' }), 0);
      assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
      assert.equal((await fetch('http://127.0.0.1:3412/')).status, 404);
    } finally {
      await server.stop();
    }
  });
});
