import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { counterGroups } from '../../labs/counters.ts';
import { ok, validateLab } from '../../labs/define-lab.ts';
import { labs } from '../../labs/index.ts';

const labWith = (counters: unknown) => ({
  id: 'tiny',
  title: 'Tiny',
  requires: ['netns'],
  counters,
  exercises: [{ id: 'one', title: 'One', task: 'Do it.', hint: 'Like this.', solution: 'true', checks: [{ name: 'runs', run: 'true', pass: ok }] }],
});

describe('a lab\'s live counters', () => {
  test('are checked like the rest of the definition, each mistake named with its path', () => {
    assert.equal(validateLab(labWith([{ kind: 'link', namespace: 'blue', device: 'veth-b' }, { kind: 'softnet' }]), 'labs/tiny/lab.ts').counters?.length, 2);
    const refused = (counters: unknown, problem: RegExp) => assert.throws(() => validateLab(labWith(counters), 'labs/tiny/lab.ts'), problem);
    refused([{ kind: 'link', namespace: 'blue', device: 'veth b; reboot' }], /counters\.0\.device: a device name/);
    refused([{ kind: 'link', namespace: 'Blue', device: 'veth-b' }], /counters\.0\.namespace: a network namespace name/);
    refused([{ kind: 'softnet', columns: ['processd'] }], /counters\.0\.columns\.0/);
    refused([{ kind: 'qdisc', device: 'veth-r', stats: ['rx_packets'] }], /stats/);
    refused([{ kind: 'netstat', names: ['UdpRcvbufErrors'] }], /counters\.0\.kind/);
    refused([], /counters: /);
  });

  test('are drawn in groups named for the learner: the device and its namespace, or the whole machine', () => {
    const groups = counterGroups(labs.get('rx-path')!.counters!);
    assert.deepEqual(groups.map((group) => [group.title, group.scope]), [
      ['veth-b in blue', 'your sandbox'],
      ['veth-r in red', 'your sandbox'],
      ['softnet_stat, per CPU', 'whole machine: every learner\'s packets'],
    ]);
    assert.deepEqual(groups[0].series.map(({ name, unit, trouble }) => [name, unit, trouble]), [
      ['rx_packets', 'packets', false],
      ['tx_packets', 'packets', false],
      ['rx_dropped', 'packets', true],
      ['tx_dropped', 'packets', true],
    ]);
    assert.deepEqual(counterGroups([{ kind: 'xdp', device: 'veth-b' }])[0].series.map((series) => series.name), ['rx_xdp_packets', 'rx_xdp_drops', 'rx_xdp_redirect', 'rx_xdp_tx']);
  });
});
