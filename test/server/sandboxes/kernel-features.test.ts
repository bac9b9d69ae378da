import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeKernelFeatures } from '../../../server/sandboxes/kernel-features.ts';
import { leftovers, NOTHING_LEFT, realEngine } from '../../support/sandboxes.ts';

// The course's own kernel (6.18, BPF tokens, no kprobes or ESP) must offer every feature the
// labs of Parts 0-4 need; a probe that answers "missing" hides a lab from every learner.
test('the kernel probe finds, from inside a user-namespace sandbox, every feature the course kernel has', async () => {
  const { engine, stateDir } = realEngine({ stateDir: '/run/wirelab-test-probe' });
  const support = await probeKernelFeatures(engine);
  const missing = ['netns', 'veth', 'bridge', 'bpf', 'xdp', 'tc-bpf', 'nftables', 'tun', 'tracepoints'].filter((feature) => support.get(feature as never) !== true);
  assert.deepEqual(missing, []);
  assert.deepEqual(leftovers(stateDir, []), NOTHING_LEFT, 'the probe\'s sandbox is gone');
});
