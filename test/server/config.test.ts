import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../server/config.ts';

describe('configuration', () => {
  test('sandboxes run in user namespaces unless the operator asks otherwise', () => {
    assert.equal(loadConfig({}).isolation, 'user-namespace');
  });

  test('host-root sandboxes are for loopback, or must be asked for twice', () => {
    assert.equal(loadConfig({ WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: 'yes' }).isolation, 'host-root');
    assert.throws(
      () => loadConfig({ WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: 'yes', WIRELAB_HOST: '0.0.0.0' }),
      /gives every learner root over this machine.*WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES_ON_THE_NETWORK=yes/,
    );
    const twice = loadConfig({ WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: 'yes', WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES_ON_THE_NETWORK: 'yes', WIRELAB_HOST: '0.0.0.0' });
    assert.equal(twice.isolation, 'host-root');
  });

  test('abuse limits are on by default, rates read as a count per period, and /metrics is off', () => {
    const config = loadConfig({});
    assert.deepEqual(config.limits.rates, {
      newLearners: { count: 300, perMs: 3_600_000 },
      sandboxStarts: { count: 300, perMs: 3_600_000 },
      checks: { count: 600, perMs: 60_000 },
    });
    assert.equal(config.maxSandboxesPerLearner, 3);
    assert.deepEqual([...config.limits.trustedProxies], []);
    assert.deepEqual(config.metrics, { token: undefined, port: undefined, host: '127.0.0.1' });
    const tuned = loadConfig({ WIRELAB_RATE_CHECKS: 'off', WIRELAB_TRUSTED_PROXIES: '10.0.0.1, ::ffff:10.0.0.2' });
    assert.equal(tuned.limits.rates.checks, null);
    assert.deepEqual([...tuned.limits.trustedProxies], ['10.0.0.1', '10.0.0.2']);
  });

  test('a mistyped setting is named, not ignored', () => {
    assert.throws(() => loadConfig({ WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: 'sure' }), /WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES/);
    assert.throws(() => loadConfig({ WIRELAB_TRACING_CONCURRENCY: '0' }), /WIRELAB_TRACING_CONCURRENCY/);
    assert.throws(() => loadConfig({ WIRELAB_RATE_SANDBOX_STARTS: '20 an hour' }), /WIRELAB_RATE_SANDBOX_STARTS: expected a rate such as 300\/hour/);
    assert.throws(() => loadConfig({ WIRELAB_METRICS_TOKEN: 'short' }), /WIRELAB_METRICS_TOKEN: use a token of at least 16 characters/);
  });
});
