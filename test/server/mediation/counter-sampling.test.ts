import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { CounterSpec } from '../../../labs/counters.ts';
import { ethtoolStatistics, installReader, parseSample, ratesBetween, UnreadableSample, type Sample } from '../../../server/mediation/counter-sampling.ts';

const SPECS: CounterSpec[] = [
  { kind: 'link', namespace: 'blue', device: 'veth-b', stats: ['rx_packets', 'rx_bytes'] },
  { kind: 'softnet', columns: ['processed', 'time_squeeze'] },
  { kind: 'qdisc', namespace: 'red', device: 'veth-r' },
  { kind: 'snmp', namespace: 'blue', names: ['UdpRcvbufErrors', 'NoSuchCounter'] },
  { kind: 'xdp', namespace: 'blue', device: 'veth-b', names: ['rx_xdp_drops'] },
  { kind: 'link', namespace: 'blue', device: 'veth-b', stats: ['tx_packets'] },
];

// What the tools print, trimmed to the fields that matter.
const ipLink = (device: string, rx: number, tx = 0) => JSON.stringify([{ ifname: device, stats64: { rx: { packets: rx, bytes: rx * 100 }, tx: { packets: tx } } }]);
const TC = JSON.stringify([{ kind: 'tbf', handle: '1:', dev: 'veth-r', root: true, packets: 40, drops: 2 }, { kind: 'pfifo', handle: '2:', packets: 38, drops: 0 }]);
const NSTAT = JSON.stringify({ kernel: { UdpRcvbufErrors: 7, UdpInErrors: 7 } });
const ETHTOOL = 'NIC statistics:\n     peer_ifindex: 2\n     rx_queue_0_xdp_drops: 5\n     rx_queue_1_xdp_drops: 6\n';
const softnetLine = (processed: number, squeeze: number, cpu: number) =>
  [processed, 0, squeeze, 0, 0, 0, 0, 0, 0, 0, 0, 0, cpu, 0, 0].map((value) => value.toString(16).padStart(8, '0')).join(' ');

// A line of the reader, as counter-reader.sh prints it: one probe per distinct command (the two
// link specs of veth-b share theirs).
function line(t: number, probes: (string | null)[], softnet = [softnetLine(100, 0, 0), softnetLine(200, 1, 1)]) {
  return JSON.stringify({ t, softnet, probes });
}

describe('counter samples', () => {
  test('one command per distinct probe, run from the reader put in the service dir', () => {
    const serviceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-service-'));
    try {
      const command = installReader(serviceDir, SPECS);
      assert.deepEqual(command, [
        'bash', '/run/wirelab/counter-reader.sh', 'softnet',
        'ip -n blue -s -j link show dev veth-b',
        'tc -n red -s -j qdisc show dev veth-r',
        'ip netns exec blue nstat -asz --json',
        'ip netns exec blue ethtool -S veth-b',
      ]);
      assert.ok(fs.existsSync(path.join(serviceDir, 'counter-reader.sh')));
    } finally {
      fs.rmSync(serviceDir, { recursive: true });
    }
  });

  test('the reader prints one JSON line per line it reads: odd output survives, a failed probe is null', () => {
    const serviceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-service-'));
    try {
      installReader(serviceDir, []);
      // Plain host commands stand in for the probes: echo keeps backslashes, printf makes a tab and a newline.
      const reader = spawnSync('bash', [path.join(serviceDir, 'counter-reader.sh'), '-', 'echo say "hi" back\\slash', 'false', 'printf a\\tb\\nc'], { input: '\n\n', encoding: 'utf8' });
      const lines = reader.stdout.trim().split('\n').map((text) => JSON.parse(text));
      assert.equal(lines.length, 2);
      assert.deepEqual(lines[0].probes, ['say "hi" back\\slash', null, 'a b\nc']);
      assert.deepEqual(lines[0].softnet, []);
      assert.ok(lines[1].t > lines[0].t);
    } finally {
      fs.rmSync(serviceDir, { recursive: true });
    }
  });

  test('parses each probe into its group\'s counters, in the order the panel draws them', () => {
    const sample = parseSample(line(10, [ipLink('veth-b', 5, 3), TC, NSTAT, ETHTOOL]), SPECS);
    assert.deepEqual(sample, {
      t: 10,
      groups: [
        { counters: [5, 500] },
        { counters: [[100, 200], [0, 1]] },
        { counters: [40, 2] },
        { counters: [7, undefined] },
        { counters: [11] },
        { counters: [3] },
      ],
    });
  });

  test('a namespace or device that is not there yet is waited for; garbage from a probe is said so', () => {
    const sample = parseSample(line(10, [null, '[]', null, 'NIC statistics:\n']), SPECS);
    assert.deepEqual(sample.groups[0], { waiting: 'waiting for veth-b in blue' });
    assert.deepEqual(sample.groups[2], { waiting: 'waiting for veth-r in red' });
    assert.deepEqual(sample.groups[3], { waiting: 'waiting for namespace blue' });
    assert.deepEqual(sample.groups[4], { counters: [undefined] }, 'a device without the counter');
    const otherDevice = parseSample(line(10, [ipLink('veth-x', 1), '{"not": "a list"}', NSTAT, ETHTOOL]), SPECS);
    assert.deepEqual(otherDevice.groups[0], { waiting: 'waiting for veth-b in blue' });
    assert.match((otherDevice.groups[2] as { waiting: string }).waiting, /could not read the counters of veth-r in red: tc -n red/);
  });

  test('a line that is not a sample of these specs is refused', () => {
    assert.throws(() => parseSample('{"t": 1, "softnet": [], "probes"', SPECS), UnreadableSample);
    assert.throws(() => parseSample(line(1, [null]), SPECS), UnreadableSample, 'too few probes');
    assert.throws(() => parseSample(JSON.stringify({ t: '1', softnet: [], probes: [null, null, null, null] }), SPECS), UnreadableSample);
  });
});

describe('counter rates', () => {
  const sample = (t: number, groups: Sample['groups']): Sample => ({ t, groups });

  test('are the change per second since the last sample; the first sample has none', () => {
    const first = sample(100, [{ counters: [10, [1, 2]] }]);
    assert.deepEqual(ratesBetween(undefined, first), { t: 100, groups: [{ rates: [null, null] }] });
    const second = sample(100.5, [{ counters: [15, [3, 2]] }]);
    assert.deepEqual(ratesBetween(first, second), { t: 100.5, groups: [{ rates: [10, [4, 0]] }] });
  });

  test('survive softnet_stat\'s 32-bit wrap; a counter that went back was reset and has no rate', () => {
    const before = sample(1, [{ counters: [2 ** 32 - 10, 5000] }]);
    const after = sample(2, [{ counters: [20, 10] }]);
    assert.deepEqual(ratesBetween(before, after).groups, [{ rates: [30, null] }]);
  });

  test('wait with their group, and start again from nothing when it comes back', () => {
    const waiting = sample(1, [{ waiting: 'waiting for veth-b in blue' }]);
    assert.deepEqual(ratesBetween(sample(0, [{ counters: [1] }]), waiting).groups, [{ waiting: 'waiting for veth-b in blue' }]);
    assert.deepEqual(ratesBetween(waiting, sample(2, [{ counters: [9] }])).groups, [{ rates: [null] }]);
    assert.deepEqual(ratesBetween(sample(1, [{ counters: [[1, 2]] }]), sample(2, [{ counters: [[1, 2, 3]] }])).groups, [{ rates: [null] }], 'a CPU came online');
  });

  test('ethtool -S counters of several queues add up under one name', () => {
    assert.deepEqual([...ethtoolStatistics(ETHTOOL)], [['peer_ifindex', 2], ['rx_xdp_drops', 11]]);
  });
});
