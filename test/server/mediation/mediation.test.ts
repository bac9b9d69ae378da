import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../../../labs/define-lab.ts';
import { labs } from '../../../labs/index.ts';
import type { Sandbox } from '../../../server/engine/engine.ts';
import { Grader } from '../../../server/grading/grader.ts';
import { serveLabCommand } from '../../../server/mediation/lab-command.ts';
import { startLabSandbox } from '../../../server/sandboxes/lab-sandbox.ts';
import { Tracer } from '../../../server/mediation/tracing.ts';
import { EXEC, leftovers, NOTHING_LEFT, realEngine } from '../../support/sandboxes.ts';

// What the server does on a learner's behalf because the kernel keeps it from root in a
// user-namespace sandbox: tracing (`lab trace`, server/mediation/tracing.ts) and the few per-device knobs that
// check CAP_NET_ADMIN in the host's user namespace (`lab set`, server/mediation/knobs.ts and
// server/engine/native/netns-knob.c). Everything goes through the real in-sandbox `lab` client, its
// Unix socket and the host's bpftrace, as a learner's terminal would; the engine is called directly
// only to send what the client never would (a planted or foreign namespace name).

// A state dir of its own: other sandbox tests may run at the same time.
const { engine, stateDir } = realEngine({ stateDir: '/run/wirelab-test-mediation' });
const tracer = new Tracer(2);
const grader = new Grader(engine, 2);
const rxPath = labs.get('rx-path')!;
const orientation = labs.get('orientation')!;

const TRACE_EXEC = { ...EXEC, timeoutMs: 45_000 };
const sh = (sandbox: Sandbox, script: string, options = EXEC) => engine.exec(sandbox.id, ['bash', '-c', script], options);
// The `lab` command as a learner types it, in the tab of namespace `ns` (ip netns exec) or in the lab tab.
const lab = (sandbox: Sandbox, words: string[], ns?: string) =>
  engine.exec(sandbox.id, [...(ns ? ['ip', 'netns', 'exec', ns] : []), 'lab', ...words], EXEC);

// `@packets[veth-b]: 6` lines of a finished trace, by device.
function packetCounts(output: string) {
  return new Map([...output.matchAll(/^@packets\[(.+)\]: (\d+)$/gm)].map(([, device, count]) => [device, Number(count)]));
}

// Waits until the trace writing to `file` says it is counting: the server prints "Tracing ..." when
// the program's BEGIN probe fires, once every probe is attached; the short sleep after it leaves
// the kernel a moment before the test's first packets.
async function waitUntilTracing(sandbox: Sandbox, file: string) {
  const waited = await sh(sandbox, `for i in $(seq 150); do grep -q '^Tracing' ${file} 2>/dev/null && { sleep 0.5; exit 0; }; sleep 0.1; done; cat ${file}; exit 1`);
  assert.equal(waited.exitCode, 0, `the trace in ${file} never started: ${waited.stdout} ${waited.stderr}`);
}

// The per-device attributes read back in a sandbox, as the kernel prints them: a CPU mask is hex,
// zero-padded to the machine's CPU count ("2", "02", "00000002" or "00000000,00000002").
async function readAttribute(sandbox: Sandbox, ns: string | undefined, file: string) {
  const read = await sh(sandbox, `${ns ? `ip netns exec ${ns} ` : ''}cat ${file}`);
  assert.equal(read.exitCode, 0, read.stderr);
  return read.stdout.trim();
}
const hex = (mask: string) => parseInt(mask.replaceAll(',', ''), 16);

// The host's bpftrace processes tracing for the user namespace `owner` (its inode is in the program text).
function hostTracesFor(owner: number) {
  return fs.readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args[0].endsWith('bpftrace') && args.some((arg) => arg.includes(`== ${owner}/`));
    } catch {
      return false;
    }
  });
}

// Every RPS/RFS/XPS knob of every host device, and the host-wide files a request might aim at:
// the server writes on the learner's behalf as host root, so the host's own values are the ones that
// must never move.
function hostKnobs() {
  const knobs: Record<string, string> = {};
  for (const device of fs.readdirSync('/sys/class/net')) {
    const queues = `/sys/class/net/${device}/queues`;
    for (const queue of fs.existsSync(queues) ? fs.readdirSync(queues) : []) {
      for (const name of ['rps_cpus', 'rps_flow_cnt', 'xps_cpus']) {
        const file = `${queues}/${queue}/${name}`;
        if (!fs.existsSync(file)) continue;
        try {
          knobs[file] = fs.readFileSync(file, 'utf8').trim();
        } catch (error) {
          knobs[file] = `unreadable (${(error as NodeJS.ErrnoException).code})`;
        }
      }
    }
  }
  for (const file of ['/proc/sys/net/core/rps_sock_flow_entries', '/proc/sys/kernel/core_pattern']) knobs[file] = fs.readFileSync(file, 'utf8').trim();
  return knobs;
}

const CPUS = os.cpus().length;
// The mask of the machine's highest CPU (2 on a 2-CPU machine), and one naming the first CPU it lacks.
const HIGHEST_CPU = (1n << BigInt(CPUS - 1)).toString(16);
const MISSING_CPU = (1n << BigInt(CPUS)).toString(16);

describe('the server traces and turns host-only knobs for a learner, within their own sandbox', () => {
  const served: { sandbox: Sandbox; stop: () => void }[] = [];
  let a: Sandbox;
  let b: Sandbox;
  let noTraces: Sandbox;

  async function start(definition: Lab) {
    const sandbox = await startLabSandbox(engine, definition, { purpose: 'test' });
    const stop = serveLabCommand({ sandbox, lab: definition, engine, tracer, check: (exercise) => grader.grade(sandbox.id, exercise) });
    served.push({ sandbox, stop });
    return sandbox;
  }

  before(async () => {
    // allSettled: if one fails to start, the others are still known, and destroyed in after().
    const started = await Promise.allSettled([start(rxPath), start(rxPath), start(orientation)]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    [a, b, noTraces] = started.map((result) => (result as PromiseFulfilledResult<Sandbox>).value);
  });

  after(async () => {
    const owners = await Promise.all(served.map(({ sandbox }) => engine.ownerNamespace(sandbox.id).catch(() => null)));
    for (const { stop } of served) stop();
    await Promise.all(served.map(({ sandbox }) => engine.destroy(sandbox.id)));
    assert.deepEqual(leftovers(stateDir, served.map(({ sandbox }) => sandbox.id)), NOTHING_LEFT);
    // Stopping the lab command ends its traces too: no host bpftrace outlives these sandboxes.
    const traced = () => owners.flatMap((owner) => (owner === null ? [] : hostTracesFor(owner)));
    for (let tries = 0; traced().length > 0 && tries < 50; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(traced(), []);
  });

  describe('lab trace', () => {
    test('counts the packets of the learner\'s own namespaces, and none of another sandbox busy at the same time', async () => {
      // B gets devices A has none of, so a leak would show by name; both have a veth-b, and B sends
      // four times what A sends over it, so a leak would show in A's count of veth-b as well.
      const wired = await sh(b, `
        set -e
        ip link add only-in-b netns red type veth peer name only-in-b2 netns blue
        ip -n red addr add 10.9.9.1/24 dev only-in-b; ip -n blue addr add 10.9.9.2/24 dev only-in-b2
        ip -n red link set only-in-b up; ip -n blue link set only-in-b2 up`);
      assert.equal(wired.exitCode, 0, wired.stderr);

      // Both sandboxes trace at once: B's own trace is the control that shows its traffic happened
      // and was traceable while A's trace was counting.
      const traceIn = (sandbox: Sandbox) => sh(sandbox, 'lab trace receive 5 > /tmp/trace.txt; echo $? > /tmp/trace.status', TRACE_EXEC);
      const traces = Promise.all([traceIn(a), traceIn(b)]);
      await Promise.all([waitUntilTracing(a, '/tmp/trace.txt'), waitUntilTracing(b, '/tmp/trace.txt')]);
      const [pingedA, pingedB] = await Promise.all([
        sh(a, 'ip netns exec red ping -q -c 5 -i 0.1 -W 1 10.0.0.2'),
        sh(b, 'ip netns exec red ping -q -c 20 -i 0.1 -W 1 10.0.0.2 & other=$!; ip netns exec red ping -q -c 15 -i 0.1 -W 1 10.9.9.2 && wait $other'),
      ]);
      assert.equal(pingedA.exitCode, 0, pingedA.stdout + pingedA.stderr);
      assert.equal(pingedB.exitCode, 0, pingedB.stdout + pingedB.stderr);
      for (const finished of await traces) assert.equal(finished.exitCode, 0, finished.stderr);

      const [outA, outB] = await Promise.all([a, b].map((sandbox) => sh(sandbox, 'cat /tmp/trace.txt; echo "status=$(cat /tmp/trace.status)"')));
      assert.match(outA.stdout, /status=0$/m, `lab trace exits 0 when its time is up: ${outA.stdout}`);
      assert.match(outB.stdout, /status=0$/m, outB.stdout);

      const countsA = packetCounts(outA.stdout);
      const countsB = packetCounts(outB.stdout);
      // The 5 echo requests, plus the ARP request that preceded them (and perhaps a probe or two).
      assert.ok((countsA.get('veth-b') ?? 0) >= 5, `A counts its 5 pings at veth-b: ${outA.stdout}`);
      assert.ok((countsA.get('veth-b') ?? 0) <= 9, `A's count of veth-b includes none of B's 20: ${outA.stdout}`);
      assert.doesNotMatch(outA.stdout, /only-in-b/, 'A\'s trace never names a device of B');
      assert.ok((countsB.get('only-in-b2') ?? 0) >= 15, `B's own trace saw its traffic: ${outB.stdout}`);
      assert.ok((countsB.get('veth-b') ?? 0) >= 20 && (countsB.get('veth-b') ?? 0) <= 24, `B counts its 20 pings at veth-b, not A's 5: ${outB.stdout}`);
    });

    test('offers only the lab\'s templates, and prints the usage for anything else', async () => {
      // napi is a template the server has, but rx-path does not offer it.
      for (const words of [['trace'], ['trace', 'nope'], ['trace', 'napi'], ['trace', 'napi', '5']]) {
        const answer = await lab(a, words);
        assert.equal(answer.exitCode, 2, `lab ${words.join(' ')}: ${answer.stdout}`);
        assert.match(answer.stdout, /usage: lab trace <what> \[seconds, 1-60, default 10\]/);
        assert.match(answer.stdout, /receive.*packets entering the stack/, 'the usage lists what the lab offers');
        assert.doesNotMatch(answer.stdout, /napi/i, 'and nothing else');
      }
    });

    test('traces for a whole number of seconds from 1 to 60, and says so for anything else', async () => {
      for (const seconds of ['0', '61', 'abc', '-1', '1.5']) {
        const answer = await lab(a, ['trace', 'receive', seconds]);
        assert.equal(answer.exitCode, 2, `lab trace receive ${seconds}: ${answer.stdout}`);
        assert.match(answer.stdout, new RegExp(`trace for a whole number of seconds from 1 to 60, not "${seconds.replace('.', '\\.')}"`));
      }
    });

    test('in a lab without traces, says it traces nothing and does not offer it', async () => {
      const answer = await lab(noTraces, ['trace', 'receive', '5']);
      assert.equal(answer.exitCode, 2, answer.stdout);
      assert.match(answer.stdout, /this lab traces nothing/);
      const listed = await lab(noTraces, ['list']);
      assert.equal(listed.exitCode, 0, listed.stdout);
      assert.doesNotMatch(listed.stdout, /lab trace/, 'lab list of orientation offers no tracing');
      assert.match((await lab(a, ['list'])).stdout, /lab trace <what> \[seconds\].*: receive/, 'lab list of rx-path does');
    });

    test('lab stop-trace ends the learner\'s own trace early with the counts so far, and not another sandbox\'s', async () => {
      const tracing = sh(a, 'lab trace receive 30 > /tmp/stopped.txt; echo $? > /tmp/stopped.status', TRACE_EXEC);
      await waitUntilTracing(a, '/tmp/stopped.txt');
      // From here the trace has 30 s to run: what follows takes a few, however loaded the machine.
      const started = performance.now();
      // B's stop-trace reaches only B's own lab command: A's trace goes on.
      const stoppedInB = await lab(b, ['stop-trace']);
      assert.equal(stoppedInB.exitCode, 0, stoppedInB.stdout);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stillTracing = await sh(a, 'test ! -e /tmp/stopped.status');
      assert.equal(stillTracing.exitCode, 0, 'A\'s trace still runs after B asked to stop tracing');
      assert.equal(hostTracesFor((await engine.ownerNamespace(a.id))!).length, 1, 'one bpftrace on the host traces for A');

      const pinged = await sh(a, 'ip netns exec red ping -q -c 3 -i 0.1 -W 1 10.0.0.2');
      assert.equal(pinged.exitCode, 0, pinged.stdout);
      const stoppedInA = await lab(a, ['stop-trace']);
      assert.equal(stoppedInA.exitCode, 0, stoppedInA.stdout);
      assert.equal((await tracing).exitCode, 0);
      assert.ok(performance.now() - started < 25_000, 'the 30-second trace ended when asked');
      const out = await sh(a, 'cat /tmp/stopped.txt; echo "status=$(cat /tmp/stopped.status)"');
      assert.match(out.stdout, /status=0$/m, out.stdout);
      assert.ok((packetCounts(out.stdout).get('veth-b') ?? 0) >= 3, `the counts so far are printed: ${out.stdout}`);
    });

    test('Ctrl+C stops a trace sooner and still prints the counts so far, and the host\'s bpftrace ends', async () => {
      const owner = (await engine.ownerNamespace(a.id))!;
      // A terminal's Ctrl+C is a SIGINT to the whole foreground job: the lab script, its process
      // substitution and the socat inside it. `set -m` gives the background job a process group of its
      // own with SIGINT not ignored, as an interactive shell does, so `kill -INT -- -$job` is that Ctrl+C.
      const interrupted = await sh(a, `
        set -m
        lab trace receive 30 > /tmp/ctrl-c.txt &
        job=$!
        for i in $(seq 150); do grep -q '^Tracing' /tmp/ctrl-c.txt && break; sleep 0.1; done
        sleep 0.5
        ip netns exec red ping -q -c 3 -i 0.1 -W 1 10.0.0.2 > /dev/null
        kill -INT -- -$job
        wait $job
        echo "status=$?"
        cat /tmp/ctrl-c.txt`, TRACE_EXEC);

      // Whatever the client does, a trace must not outlive the learner's command on the host.
      for (let tries = 0; hostTracesFor(owner).length > 0 && tries < 50; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(hostTracesFor(owner), [], 'no bpftrace for the sandbox is left on the host');

      // The promise of the lab script's comment, of the "(Ctrl+C stops it sooner)" the server prints,
      // and of rx-path's hint ("or press Ctrl+C").
      assert.ok((packetCounts(interrupted.stdout).get('veth-b') ?? 0) >= 3, `the counts so far are printed after Ctrl+C: ${interrupted.stdout}`);
      assert.match(interrupted.stdout, /status=0$/m, interrupted.stdout);
    });
  });

  describe('lab set', () => {
    let hostBefore: Record<string, string>;
    before(() => {
      hostBefore = hostKnobs();
    });

    test('sets rps_cpus of a device in the namespace the learner runs it in, which root inside cannot', async () => {
      const file = '/sys/class/net/veth-b/queues/rx-0/rps_cpus';
      const set = await lab(a, ['set', file, HIGHEST_CPU], 'blue');
      assert.equal(set.exitCode, 0, set.stdout);
      assert.match(set.stdout, /set by the server, in namespace blue/);
      assert.equal(hex(await readAttribute(a, 'blue', file)), hex(HIGHEST_CPU));

      // Why the server has to do it: store_rps_map() checks CAP_NET_ADMIN in the host's user namespace.
      const direct = await sh(a, `ip netns exec blue bash -c 'echo 1 > ${file}'`);
      assert.notEqual(direct.exitCode, 0, 'root in the sandbox cannot write rps_cpus of its own veth');
      assert.match(direct.stderr, /Operation not permitted/);
      assert.equal(hex(await readAttribute(a, 'blue', file)), hex(HIGHEST_CPU), 'the refused write changed nothing');
      assert.equal(hex(await readAttribute(a, 'red', '/sys/class/net/veth-r/queues/rx-0/rps_cpus')), 0, 'the peer in red is untouched');
    });

    test('sets rps_flow_cnt, and xps_cpus on a single-queue veth and on any queue of a multiqueue one', async () => {
      const flows = await lab(a, ['set', '/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt', '128'], 'blue');
      assert.equal(flows.exitCode, 0, flows.stdout);
      assert.equal(await readAttribute(a, 'blue', '/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt'), '128');

      // This kernel takes xps_cpus for a veth's only queue.
      const xps = await lab(a, ['set', '/sys/class/net/veth-b/queues/tx-0/xps_cpus', '1'], 'blue');
      assert.equal(xps.exitCode, 0, xps.stdout);
      assert.equal(hex(await readAttribute(a, 'blue', '/sys/class/net/veth-b/queues/tx-0/xps_cpus')), 1);

      // Queue numbers other than 0, on a veth made with two queues each way.
      const made = await sh(a, 'ip -n blue link add mq0 numtxqueues 2 numrxqueues 2 type veth peer name mq1 numtxqueues 2 numrxqueues 2');
      assert.equal(made.exitCode, 0, made.stderr);
      for (const [attribute, value] of [['tx-1/xps_cpus', HIGHEST_CPU], ['rx-1/rps_cpus', '1']]) {
        const set = await lab(a, ['set', `/sys/class/net/mq0/queues/${attribute}`, value], 'blue');
        assert.equal(set.exitCode, 0, set.stdout);
        assert.equal(hex(await readAttribute(a, 'blue', `/sys/class/net/mq0/queues/${attribute}`)), hex(value));
      }
    });

    test('from the lab tab, sets the device of the sandbox\'s own namespace, never the host\'s of the same name', async () => {
      const set = await lab(a, ['set', '/sys/class/net/lo/queues/rx-0/rps_cpus', '1']);
      assert.equal(set.exitCode, 0, set.stdout);
      assert.match(set.stdout, /in the sandbox's own namespace/);
      assert.equal(hex(await readAttribute(a, undefined, '/sys/class/net/lo/queues/rx-0/rps_cpus')), 1);
      assert.equal(fs.readFileSync('/sys/class/net/lo/queues/rx-0/rps_cpus', 'utf8').trim(), hostBefore['/sys/class/net/lo/queues/rx-0/rps_cpus'], 'the host\'s lo is unchanged');
    });

    test('refuses, with status 2 and the reason, whatever is not an allowed knob with a sound value', async () => {
      const refusals: [string[], RegExp][] = [
        [['/sys/class/net/veth-b/mtu', '1000'], /is not something lab set can change/],
        [['/proc/sys/kernel/core_pattern', 'x'], /is not something lab set can change/],
        [['/sys/class/net/../../../proc/sys/kernel/core_pattern', 'x'], /\.\. is not a device name/],
        [['/sys/class/net/veth-b/queues/rx-0/../../../../../proc/sys/kernel/core_pattern', 'x'], /is not something lab set can change/],
        [['/sys/class/net/veth-b/queues/rx-0/rps_cpus', 'zz'], /"zz" is not a CPU mask/],
        [['/sys/class/net/veth-b/queues/rx-0/rps_cpus', MISSING_CPU], new RegExp(`names CPUs this machine does not have: it has ${CPUS}`)],
        ...(CPUS < 16 ? [[['/sys/class/net/veth-b/queues/rx-0/rps_cpus', 'ffff'], /names CPUs this machine does not have/] as [string[], RegExp]] : []),
        [['/sys/class/net/veth-b/queues/tx-0/xps_cpus', '0x1'], /is not a CPU mask/],
        [['/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt', '70000'], /is not a flow count/],
        [['/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt', 'lots'], /is not a flow count/],
        [['/proc/sys/net/core/rps_sock_flow_entries', '0'], /net\.core\.rps_sock_flow_entries is host-wide .*the server keeps it at 32768/],
        [[], /usage: lab set <path> <value>/],
        [['/sys/class/net/veth-b/queues/rx-0/rps_cpus'], /usage: lab set <path> <value>/],
      ];
      for (const [words, reason] of refusals) {
        const answer = await lab(a, ['set', ...words], 'blue');
        assert.equal(answer.exitCode, 2, `lab set ${words.join(' ')}: ${answer.stdout}`);
        assert.match(answer.stdout, reason, `lab set ${words.join(' ')}`);
      }
      assert.equal(hex(await readAttribute(a, 'blue', '/sys/class/net/veth-b/queues/rx-0/rps_cpus')), hex(HIGHEST_CPU), 'no refused request wrote anything');
      assert.equal(await readAttribute(a, 'blue', '/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt'), '128');
    });

    test('says there is no such device or queue in that namespace', async () => {
      for (const file of ['/sys/class/net/no-such-dev/queues/rx-0/rps_cpus', '/sys/class/net/veth-r/queues/rx-0/rps_cpus', '/sys/class/net/veth-b/queues/rx-9/rps_cpus']) {
        // veth-r exists, but in red, not in blue where the learner runs the command.
        const answer = await lab(a, ['set', file, '1'], 'blue');
        assert.ok(answer.exitCode === 1 || answer.exitCode === 2, `lab set ${file}: ${answer.exitCode} ${answer.stdout}`);
        assert.match(answer.stdout, /no such device or attribute in that namespace/);
      }
      assert.equal(hex(await readAttribute(a, 'red', '/sys/class/net/veth-r/queues/rx-0/rps_cpus')), 0);
    });

    test('refuses a device name that is a path step (. or ..) itself, with status 2, before asking the host', async () => {
      // The kernel never names a device "." or ".." (dev_valid_name()); as a device these would walk
      // out of /sys/class/net. The host helper refuses them too, but only as a failed write (status 1):
      // the server's own check should have refused the request, like every other traversal.
      for (const device of ['..', '.']) {
        const answer = await lab(a, ['set', `/sys/class/net/${device}/queues/rx-0/rps_cpus`, '1'], 'blue');
        assert.doesNotMatch(answer.stdout, /set by the server/);
        assert.equal(answer.exitCode, 2, `lab set /sys/class/net/${device}/queues/rx-0/rps_cpus: ${answer.stdout}`);
      }
    });

    test('never opens a namespace through a link the learner planted, nor one owned by anyone but the sandbox', async () => {
      // /run/netns is the sandbox's own: root inside may put anything there. Each entry aims the
      // host-root helper somewhere else: the init process's namespace by a magic link (absolute and
      // by climbing), a plain file, and a namespace the learner made under a user namespace of its own.
      const planted = await sh(a, `
        set -e
        ln -s /proc/1/ns/net /run/netns/evil
        ln -s ../../../../../../proc/1/ns/net /run/netns/evil-up
        touch /run/netns/plain
        unshare -U -n sleep 10 > /dev/null 2>&1 &
        sleep 0.3
        touch /run/netns/nested
        mount --bind /proc/$!/ns/net /run/netns/nested
        kill $!`);
      assert.equal(planted.exitCode, 0, planted.stderr);
      const refusals: [string, RegExp][] = [
        // openat2 with RESOLVE_NO_MAGICLINKS: /proc/<pid>/ns/net is a magic link.
        ['evil', /Too many levels of symbolic links/],
        ['evil-up', /Too many levels of symbolic links/],
        ['plain', /not a network namespace/],
        ['nested', /does not belong to this sandbox/],
        ['../../../proc/1/ns/net', /not a network namespace name/],
      ];
      for (const [namespace, reason] of refusals) {
        await assert.rejects(engine.writeDeviceAttribute(a.id, namespace, 'lo/queues/rx-0/rps_cpus', '1'), reason, `namespace ${namespace}`);
      }
      // The helper checks the attribute path too, whatever the server let through.
      await assert.rejects(engine.writeDeviceAttribute(a.id, 'blue', '../../../proc/sys/kernel/core_pattern', 'x'), /not an attribute path/);
      await assert.rejects(engine.writeDeviceAttribute(a.id, 'blue', 'veth-b/queues/rx-0/../../../../../proc/sys/kernel/core_pattern', 'x'), /not an attribute path/);

      // The client sends `ip netns identify`, but anyone inside can send any name down the socket.
      const forged = await sh(a, "printf 'evil\\nset /sys/class/net/lo/queues/rx-0/rps_cpus 3\\n' | socat -t 10 - UNIX-CONNECT:/run/wirelab/lab.sock");
      assert.doesNotMatch(forged.stdout, /set by the server/);
      assert.match(forged.stdout, /Too many levels of symbolic links\n+__wirelab_exit__ 1/);
    });

    test('cannot reach a namespace of another sandbox, by name or by a forged request', async () => {
      const made = await sh(b, 'ip netns add b-secret');
      assert.equal(made.exitCode, 0, made.stderr);
      await assert.rejects(engine.writeDeviceAttribute(a.id, 'b-secret', 'lo/queues/rx-0/rps_cpus', '1'), /there is no such network namespace in the sandbox/);
      const forged = await sh(a, "printf 'b-secret\\nset /sys/class/net/lo/queues/rx-0/rps_cpus 1\\n' | socat -t 10 - UNIX-CONNECT:/run/wirelab/lab.sock");
      assert.doesNotMatch(forged.stdout, /set by the server/);
      assert.match(forged.stdout, /there is no such network namespace in the sandbox\n+__wirelab_exit__ 1/);
      assert.equal(hex(await readAttribute(b, 'b-secret', '/sys/class/net/lo/queues/rx-0/rps_cpus')), 0, 'B\'s namespace is untouched');
      // Each sandbox's red and blue are its own: what A set in its blue is not in B's.
      assert.equal(hex(await readAttribute(b, 'blue', '/sys/class/net/veth-b/queues/rx-0/rps_cpus')), 0);
      assert.equal(await readAttribute(b, 'blue', '/sys/class/net/veth-b/queues/rx-0/rps_flow_cnt'), '0');
    });

    test('leaves every knob of the host\'s own devices, and the host-wide sysctls, as they were', () => {
      assert.deepEqual(hostKnobs(), hostBefore);
    });
  });
});
