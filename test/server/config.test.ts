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

  test('a mistyped setting is named, not ignored', () => {
    assert.throws(() => loadConfig({ WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: 'sure' }), /WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES/);
    assert.throws(() => loadConfig({ WIRELAB_TRACING_CONCURRENCY: '0' }), /WIRELAB_TRACING_CONCURRENCY/);
  });
});
