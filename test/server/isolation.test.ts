import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Sandbox } from '../../server/engine/engine.ts';
import { redAndBlue } from '../../labs/namespaces.ts';
import { EXEC, leftovers, NOTHING_LEFT, realEngine } from '../support/sandboxes.ts';

// A state dir of its own: other sandbox tests may run at the same time.
const { engine, stateDir } = realEngine({ stateDir: '/run/wirelab-test-isolation' });
const sh = (sandbox: Sandbox, script: string, options: { stdin?: string; args?: string[] } = {}) =>
  engine.exec(sandbox.id, ['bash', '-c', script, 'isolation', ...(options.args ?? [])], { ...EXEC, stdin: options.stdin });

const REFUSED = /Permission denied|Operation not permitted/i;

const XDP_PASS = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";`;

const TC_OK = `
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int ok(struct __sk_buff *skb) { return TC_ACT_OK; }
char LICENSE[] SEC("license") = "GPL";`;

const KPROBE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/do_sys_openat2") int spy(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`;

// Events the kernel keeps from any unprivileged host user, and so from a sandbox whose CAP_PERFMON
// counts only over its own user namespace: every process on one CPU (perf_allow_cpu()), the kernel's own
// execution (perf_allow_kernel()), and ftrace's function tracer, tracepoint id 1, which is root only
// (perf_trace_event_perm()). Its own user-space execution is the control that shows the program works.
const PERF_OPEN = `
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static void try_open(const char *name, struct perf_event_attr attr, int pid, int cpu) {
  attr.size = sizeof attr;
  long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);
  printf("%s: %s\\n", name, fd < 0 ? strerror(errno) : "opened");
}
int main(void) {
  struct perf_event_attr clock = {.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1};
  try_open("cpu-wide", clock, -1, 0);
  try_open("function-tracer", (struct perf_event_attr){.type = PERF_TYPE_TRACEPOINT, .config = 1, .exclude_kernel = 1}, 0, -1);
  try_open("own-user-space", clock, 0, -1);
  clock.exclude_kernel = 0;
  try_open("with-kernel", clock, 0, -1);
  return 0;
}`;

const compileBpf = (source: string, object: string) =>
  `cat > ${source} && clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c ${source} -o ${object}`;

// The /proc/sys knobs outside net/ that the kernel keeps per namespace, so a sandbox writes its own
// copy and never the host's. Everything else under /proc/sys belongs to the host's root: its files are
// owned by host uid 0, which is no one inside, or its handler checks a capability in the host's user namespace.
const PER_NAMESPACE_KNOBS = [
  // The ipc namespace's POSIX message queue limits (ipc/mq_sysctl.c: a table per ipc namespace,
  // owned by the namespace's root).
  'fs/mqueue/msg_default', 'fs/mqueue/msg_max', 'fs/mqueue/msgsize_default', 'fs/mqueue/msgsize_max', 'fs/mqueue/queues_max',
  // The ipc namespace's System V limits (ipc/ipc_sysctl.c, same scheme). auto_msgmni is accepted and ignored.
  'kernel/auto_msgmni', 'kernel/msgmax', 'kernel/msgmnb', 'kernel/msgmni', 'kernel/sem',
  'kernel/shm_rmid_forced', 'kernel/shmall', 'kernel/shmmax', 'kernel/shmmni',
  // The last pid handed out in the writer's own pid namespace (pid_ns_ctl_handler() in
  // kernel/pid_namespace.c checks CAP_SYS_ADMIN over that namespace's user namespace).
  'kernel/ns_last_pid',
  // The pid namespace's own pid_max since Linux 6.14 (register_pidns_sysctls() in kernel/pid.c).
  'kernel/pid_max',
].map((knob) => `/proc/sys/${knob}`);

// A hot-pluggable CPU of the host (cpu0 usually is not): its `online` file is the one to attack.
function hotplugCpu() {
  const cpus = fs.readdirSync('/sys/devices/system/cpu').filter((name) => /^cpu\d+$/.test(name));
  const online = cpus.map((cpu) => `/sys/devices/system/cpu/${cpu}/online`).find((file) => fs.existsSync(file));
  assert.ok(online, 'this check needs a host with a hot-pluggable CPU (a cpuN/online file)');
  return online;
}

const readKnobs = (files: string[]) => Object.fromEntries(files.map((file) => [file, fs.readFileSync(file, 'utf8')]));

describe('a user-namespace sandbox is a boundary', () => {
  let a: Sandbox;
  let b: Sandbox;
  const created: Sandbox[] = [];
  before(async () => {
    // allSettled: if one fails to start, the other is still known, and destroyed in after().
    const started = await Promise.allSettled([engine.create({ purpose: 'test' }), engine.create({ purpose: 'test' })]);
    created.push(...started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    [a, b] = created;
  });
  after(async () => {
    await Promise.all(created.map((sandbox) => engine.destroy(sandbox.id)));
    assert.deepEqual(leftovers(stateDir, created.map((sandbox) => sandbox.id)), NOTHING_LEFT);
  });

  test('cannot change the host\'s core_pattern, through its own /proc or a fresh proc mount', async () => {
    const pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const direct = await sh(b, 'echo "$(cat /proc/sys/kernel/core_pattern)" > /proc/sys/kernel/core_pattern');
    assert.notEqual(direct.exitCode, 0);
    assert.match(direct.stderr, REFUSED);
    // The mount itself is allowed (a proc for the sandbox's own pid namespace); the knob in it is still the host's.
    const fresh = await sh(b, 'mkdir /tmp/p && mount -t proc proc /tmp/p && echo "$(cat /tmp/p/sys/kernel/core_pattern)" > /tmp/p/sys/kernel/core_pattern');
    assert.notEqual(fresh.exitCode, 0);
    assert.match(fresh.stderr, REFUSED);
    assert.equal(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), pattern);
  });

  test('cannot take a host CPU offline, write sysfs outside its own network devices, or drop the host\'s page cache', async () => {
    const cpu = hotplugCpu();
    const online = fs.readFileSync(cpu, 'utf8');
    const offline = await sh(b, `echo "$(cat ${cpu})" > ${cpu}`);
    assert.notEqual(offline.exitCode, 0);
    assert.match(offline.stderr, REFUSED);
    assert.equal(fs.readFileSync(cpu, 'utf8'), online);
    // sysfs gives the sandbox's root only the files of the network devices in its own namespace;
    // everything else is owned by host uid 0, which is no one inside.
    const writable = await sh(b, "find /sys -xdev -type f -writable -not -path '/sys/devices/virtual/net/*' 2>/dev/null; true");
    assert.equal(writable.stdout, '', 'sysfs files B may write');

    const drop = await sh(b, 'echo 3 > /proc/sys/vm/drop_caches');
    assert.notEqual(drop.exitCode, 0);
    assert.match(drop.stderr, REFUSED);
  });

  test('cannot mount tracefs, debugfs, or a bpffs of its own', async () => {
    for (const [type, target] of [['tracefs', '/tmp/t'], ['debugfs', '/tmp/d']]) {
      const mounted = await sh(b, `mkdir -p ${target} && mount -t ${type} none ${target}`);
      assert.notEqual(mounted.exitCode, 0, `${type} mounted`);
      assert.match(mounted.stderr, REFUSED);
    }
    // bpffs is FS_USERNS_MOUNT, but bpf_fill_super() (kernel/bpf/inode.c) still wants CAP_SYS_ADMIN in the
    // host's user namespace to create one: the only bpffs, and so the only token, is the one the host delegated.
    const bpffs = await sh(b, 'mkdir -p /tmp/b && mount -t bpf bpf /tmp/b');
    assert.notEqual(bpffs.exitCode, 0, 'a new bpffs mounted');
    assert.match(bpffs.stderr, REFUSED);
    const mountinfo = await sh(b, 'cat /proc/self/mountinfo');
    assert.deepEqual(mountinfo.stdout.split('\n').filter((line) => line.includes(' - bpf ')).map((line) => line.split(' ')[4]), ['/run/bpf', '/sys/fs/bpf']);
  });

  test('cannot trace the kernel: no bpftrace, no cpu-wide or kernel perf events, no kprobe program', async () => {
    const bpftrace = await sh(b, `timeout 10 bpftrace -e 'tracepoint:syscalls:sys_enter_write { printf("%s", str(args->buf)); exit(); }'`);
    assert.notEqual(bpftrace.exitCode, 0, bpftrace.stdout);
    // Without tracefs bpftrace does not even find the tracepoint.
    assert.match(bpftrace.stderr, /tracepoint not found|Permission denied|Operation not permitted/);
    assert.equal(bpftrace.stdout, '', 'bpftrace printed nothing it traced');

    const perf = await sh(b, 'cat > /tmp/perf.c && gcc -o /tmp/perf /tmp/perf.c && /tmp/perf', { stdin: PERF_OPEN });
    assert.equal(perf.exitCode, 0, perf.stderr);
    for (const refused of ['cpu-wide', 'with-kernel', 'function-tracer']) {
      assert.match(perf.stdout, new RegExp(`^${refused}: (Permission denied|Operation not permitted)$`, 'm'));
    }
    assert.match(perf.stdout, /^own-user-space: opened$/m);

    // kprobe is not among the program types the sandbox's bpffs delegates (BPF_DELEGATION in oci-spec.ts).
    const kprobe = await sh(b, `${compileBpf('/tmp/spy.c', '/tmp/spy.o')} && bpftool prog load /tmp/spy.o /run/bpf/spy type kprobe`, { stdin: KPROBE });
    assert.notEqual(kprobe.exitCode, 0, 'a kprobe program loaded');
    assert.match(kprobe.stderr, REFUSED);
  });

  test('cannot see, read or list another sandbox\'s BPF programs', async () => {
    const loaded = await sh(a, `
      set -e
      ${compileBpf('/root/pass.c', '/root/pass.o')}
      ip link add xa type veth peer name xb
      ip link set dev xa xdp obj /root/pass.o sec xdp
      ip -j link show dev xa`, { stdin: XDP_PASS });
    assert.equal(loaded.exitCode, 0, loaded.stderr);
    const id: number = JSON.parse(loaded.stdout)[0].xdp.prog.id;
    assert.ok(id > 0, 'A has an XDP program');

    for (const command of [`bpftool prog show id ${id}`, `bpftool prog dump xlated id ${id}`]) {
      const attempt = await sh(b, command);
      assert.notEqual(attempt.exitCode, 0, `${command} succeeded: ${attempt.stdout}`);
      assert.match(attempt.stderr, REFUSED);
    }
    // Listing walks the host-wide id space; the bpffs preload iterators would list every program too.
    for (const command of ['bpftool prog show', 'bpftool -j prog show', 'cat /sys/fs/bpf/progs.debug']) {
      const listing = await sh(b, command);
      assert.notEqual(listing.exitCode, 0, `${command} succeeded`);
      assert.doesNotMatch(listing.stdout, new RegExp(`\\b${id}\\b|pass`), `${command} shows A's program`);
    }

    const still = await sh(a, 'ip -j link show dev xa');
    assert.equal(JSON.parse(still.stdout)[0].xdp.prog.id, id, 'A\'s program is still attached');
  });

  test('cannot see another sandbox\'s files or processes, nor any of the host\'s processes', async () => {
    const planted = await sh(a, 'echo hush-4242 > /root/secret.txt; setsid sleep 4242 < /dev/null > /dev/null 2>&1 & sleep 0.2; ps -eo args');
    assert.equal(planted.exitCode, 0, planted.stderr);
    assert.match(planted.stdout, /^sleep 4242$/m, 'A runs the process B must not see');

    // The script searches for words it does not itself contain, since B's own command lines are listed too.
    const processes = await sh(b, 'ps -eo args; cat /proc/[0-9]*/cmdline | tr "\\0" " "');
    assert.equal(processes.exitCode, 0, processes.stderr);
    assert.doesNotMatch(processes.stdout, /4242/);

    // B's /proc/self/mountinfo does name host paths (the overlay's lowerdir, upperdir and workdir, the
    // service dir), but names only: nothing of the host or of A is reachable through them.
    const search = 'timeout 15 find / \\( -fstype proc -o -fstype sysfs \\) -prune -o -name "secret*" -print 2>/dev/null; true';
    assert.match((await sh(a, search)).stdout, /^\/root\/secret\.txt$/m, 'the search finds the file where it is');
    const found = await sh(b, search);
    assert.doesNotMatch(found.stdout, /secret\.txt/);
    const read = await sh(b, 'cat /root/secret.txt');
    assert.notEqual(read.exitCode, 0);
    assert.doesNotMatch(read.stdout, /hush/);

    const everyone = await sh(b, 'ps -eo pid=,comm=');
    const listed = everyone.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
    assert.ok(listed.length < 10, `B sees ${listed.length} processes: ${everyone.stdout}`);
    assert.deepEqual(listed[0], ['1', 'tini'], 'pid 1 is the sandbox\'s own init');
    const names = listed.map(([, comm]) => comm);
    for (const hostProcess of ['node', 'systemd', 'runc', 'sshd', 'init']) assert.ok(!names.includes(hostProcess), `B sees ${hostProcess}`);
  });

  test('cannot make device nodes', async () => {
    const made = await sh(b, 'mknod /tmp/sda b 8 0');
    assert.notEqual(made.exitCode, 0);
    assert.match(made.stderr, REFUSED);
    assert.equal((await sh(b, 'test -e /tmp/sda')).exitCode, 1);
  });

  test('can write only the /proc/sys knobs the kernel keeps per namespace, and those stay its own', async () => {
    // Each file gets its own value back: a write that succeeds changes nothing, wherever it lands.
    const sweep = await sh(b, `
      for f in $(find /proc/sys -type f -not -path '/proc/sys/net/*'); do
        v=$(cat $f 2>/dev/null) || continue
        printf '%s\\n' "$v" > $f 2>/dev/null && echo "$f"
      done 2>/dev/null`);
    assert.equal(sweep.timedOut, false);
    const written = sweep.stdout.trim().split('\n').filter(Boolean);
    assert.ok(written.includes('/proc/sys/kernel/shmmni'), `the sweep writes where the kernel allows it: ${sweep.stdout}`);
    assert.deepEqual(written.filter((file) => !PER_NAMESPACE_KNOBS.includes(file)), [], 'host-wide knobs B could write');

    // Now change each for real, and look for the change where it must not be. The host's ns_last_pid
    // moves with every host fork, so it cannot be compared.
    const knobs = written.filter((file) => file !== '/proc/sys/kernel/ns_last_pid');
    const dump = 'for f in "$@"; do printf "%s=%s\\n" "$f" "$(cat "$f")"; done';
    const hostBefore = readKnobs(knobs);
    const aBefore = await sh(a, dump, { args: knobs });
    // The last digit of the first number moves by one: a different value inside every knob's range.
    const changed = await sh(b, `
      for f in "$@"; do
        read -ra v < "$f"; d=\${v[0]: -1}; v[0]=\${v[0]%?}$(( d > 0 ? d - 1 : 1 ))
        printf '%s\\n' "\${v[*]}" > "$f" || exit 1
      done`, { args: knobs });
    assert.equal(changed.exitCode, 0, changed.stderr);
    assert.deepEqual(readKnobs(knobs), hostBefore, 'the host\'s values are unchanged');
    assert.equal((await sh(a, dump, { args: knobs })).stdout, aBefore.stdout, 'A\'s values are unchanged');
    assert.notEqual((await sh(b, dump, { args: knobs })).stdout, aBefore.stdout, 'B\'s own values did change');
  });

  test('still runs every lab operation: namespaces, nftables, tc, XDP and tc-BPF through its token, pins, TUN, per-namespace sysctls', async () => {
    const wired = await sh(b, `
      set -e
      ${redAndBlue}
      ip netns exec red ping -c 1 -W 2 10.0.0.2`);
    assert.equal(wired.exitCode, 0, wired.stderr);
    assert.match(wired.stdout, /1 received/);

    const nft = await sh(b, `
      set -e
      nft add table inet t
      nft add chain inet t c '{ type filter hook input priority 0; policy accept; }'
      nft add rule inet t c tcp dport 22 accept
      nft list ruleset`);
    assert.equal(nft.exitCode, 0, nft.stderr);
    assert.match(nft.stdout, /table inet t \{[\s\S]*chain c \{[\s\S]*tcp dport 22 accept/);

    const tc = await sh(b, `
      set -e
      ip netns exec red tc qdisc add dev veth-r root tbf rate 100mbit burst 32k latency 50ms
      ip netns exec blue tc qdisc add dev veth-b clsact
      ip netns exec red tc qdisc show dev veth-r; ip netns exec blue tc qdisc show dev veth-b`);
    assert.equal(tc.exitCode, 0, tc.stderr);
    assert.match(tc.stdout, /qdisc tbf .* rate 100Mbit/);
    assert.match(tc.stdout, /qdisc clsact/);

    // Inside a nested namespace `ip netns exec` hides /sys/fs/bpf: the token comes from /run/bpf.
    const xdp = await sh(b, `
      set -e
      ${compileBpf('/root/pass.c', '/root/pass.o')}
      ip netns exec blue ip link set dev veth-b xdp obj /root/pass.o sec xdp
      ip -n blue -j link show veth-b`, { stdin: XDP_PASS });
    assert.equal(xdp.exitCode, 0, xdp.stderr);
    assert.ok(JSON.parse(xdp.stdout)[0].xdp.prog.id > 0, 'the XDP program is attached in blue');

    const tcBpf = await sh(b, `
      set -e
      ${compileBpf('/root/ok.c', '/root/ok.o')}
      ip netns exec blue tc filter add dev veth-b ingress bpf direct-action obj /root/ok.o sec tc
      ip netns exec blue tc filter show dev veth-b ingress
      ip netns exec red ping -c 1 -W 2 10.0.0.2`, { stdin: TC_OK });
    assert.equal(tcBpf.exitCode, 0, tcBpf.stderr);
    assert.match(tcBpf.stdout, /bpf .*ok\.o:\[tc\] direct-action .*id \d+/);
    assert.match(tcBpf.stdout, /1 received/, 'traffic passes both programs');

    const pinned = await sh(b, `
      set -e
      bpftool prog load /root/pass.o /run/bpf/x type xdp
      bpftool prog show pinned /run/bpf/x
      bpftool prog show pinned /sys/fs/bpf/x`);
    assert.equal(pinned.exitCode, 0, pinned.stderr);
    const ids = [...pinned.stdout.matchAll(/^(\d+): xdp /gm)].map((match) => match[1]);
    assert.equal(ids.length, 2, pinned.stdout);
    assert.equal(ids[0], ids[1], 'one bpffs, visible at /run/bpf and /sys/fs/bpf');

    const tun = await sh(b, 'ip tuntap add dev t0 mode tun && ip -br link show t0');
    assert.equal(tun.exitCode, 0, tun.stderr);
    assert.match(tun.stdout, /^t0 /);

    const hostForwarding = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const forwarding = await sh(b, `
      set -e
      ip netns exec red sysctl -w net.ipv4.ip_forward=1
      echo "red=$(ip netns exec red cat /proc/sys/net/ipv4/ip_forward) sandbox=$(cat /proc/sys/net/ipv4/ip_forward)"`);
    assert.equal(forwarding.exitCode, 0, forwarding.stderr);
    assert.match(forwarding.stdout, /red=1 sandbox=0/);
    assert.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForwarding);
  });
});
