// `npm run soak [-- --cycles 1000 --xdp-cycles 100]`: does a sandbox leave anything behind? Runs
// the engine in this process, over a state dir of its own: `cycles` times create → exec → destroy,
// then `xdp-cycles` times a sandbox in which a learner made nested network namespaces, a veth pair,
// a bridge and attached an XDP program (with its map), all left in place at destroy. Then counts
// what is left on the host, against the same counts taken before, and this process's RSS growth.
// Every count must be 0. Bounded: it stops with a failure past its time limit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMPILE } from '../labs/bpf.ts';
import { redAndBlue } from '../labs/namespaces.ts';
import { EXEC, realEngine } from '../test/support/sandboxes.ts';

const { values: flags } = parseArgs({
  options: {
    cycles: { type: 'string', default: '1000' },
    'xdp-cycles': { type: 'string', default: '100' },
    'time-limit-minutes': { type: 'string', default: '30' },
  },
});
const CYCLES = Number(flags.cycles);
// Settled RSS is sampled every 25 cycles and compared quarter to quarter: fewer cycles tell nothing.
if (!(CYCLES >= 200)) throw new Error('--cycles: at least 200');
const XDP_CYCLES = Number(flags['xdp-cycles']);
const DEADLINE = Date.now() + Number(flags['time-limit-minutes']) * 60_000;
const STATE_DIR = '/run/wirelab-soak';
// Names that only this script gives (in its object's BTF), so that other users' BPF objects on the
// machine do not count.
const PROG = 'wl_soak_xdp';
const MAP = 'wl_soak_cnt';
const SETTLE_MS = 60_000;

const XDP_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } ${MAP} SEC(".maps");
SEC("xdp") int ${PROG}(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *seen = bpf_map_lookup_elem(&${MAP}, &key);
  if (seen) __sync_fetch_and_add(seen, 1);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";`;

// A learner's work, left as it is: two namespaces joined by a veth pair, a bridge, an XDP program
// with its map attached in blue, traffic through it, and its object pinned in the token's bpffs.
const LEARNER_WORK = `
set -e
base64 -d > /root/soak.o
${redAndBlue}
ip link add br0 type bridge
ip link add tap-a type veth peer name tap-b
ip link set tap-a master br0
ip link set br0 up
ip netns exec blue ip link set dev veth-b xdp obj /root/soak.o sec xdp
ip netns exec red ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null
bpftool prog load /root/soak.o /run/bpf/soak-pinned type xdp`;

const { engine } = realEngine({ stateDir: STATE_DIR });
const made = new Set<string>();
const namespaceInodes = new Set<number>();

const beforeHost = hostCounts();
// RSS right after a full collection, every 25 cycles: between collections RSS swings by 20 MiB
// with the garbage V8 has not yet collected, which would hide a leak or invent one.
const settledRss: { cycle: number; rss: number }[] = [];
const started = performance.now();

function checkTime() {
  if (Date.now() > DEADLINE) throw new Error(`the soak passed its time limit of ${flags['time-limit-minutes']} minutes`);
}

// The inode of a sandbox's own network namespace, to look for it after its destroy.
function netnsOf(sandboxId: string) {
  const { pid } = JSON.parse(execFileSync('runc', ['--root', path.join(STATE_DIR, 'runc'), 'state', sandboxId], { encoding: 'utf8' })) as { pid: number };
  return fs.statSync(`/proc/${pid}/ns/net`).ino;
}

try {
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    checkTime();
    const sandbox = await engine.create({ purpose: 'soak' });
    made.add(sandbox.id);
    namespaceInodes.add(netnsOf(sandbox.id));
    const result = await engine.exec(sandbox.id, ['sh', '-c', 'echo alive'], EXEC);
    if (result.stdout !== 'alive\n') throw new Error(`cycle ${cycle}: exec answered ${JSON.stringify(result)}`);
    await engine.destroy(sandbox.id);
    if (cycle % 25 === 0) {
      global.gc?.();
      settledRss.push({ cycle, rss: rss() });
    }
    if (cycle % 100 === 0) console.log(`${cycle} create → exec → destroy cycles, ${((performance.now() - started) / 1000).toFixed(0)} s, RSS ${mib(rss())}`);
  }

  const object = await compileXdp();
  for (let cycle = 1; cycle <= XDP_CYCLES; cycle++) {
    checkTime();
    const sandbox = await engine.create({ purpose: 'soak-xdp' });
    made.add(sandbox.id);
    namespaceInodes.add(netnsOf(sandbox.id));
    const work = await engine.exec(sandbox.id, ['bash', '-c', LEARNER_WORK], { ...EXEC, stdin: object });
    if (work.exitCode !== 0) throw new Error(`XDP cycle ${cycle}: the learner's work failed: ${work.stderr}`);
    const nested = await engine.exec(sandbox.id, ['sh', '-c', 'stat -L -c %i /run/netns/red /run/netns/blue'], EXEC);
    for (const inode of nested.stdout.trim().split('\n')) namespaceInodes.add(Number(inode));
    if (cycle === 1 && bpfObjects().programs === 0) throw new Error(`the XDP program ${PROG} is not seen on the host while attached: the count would prove nothing`);
    await engine.destroy(sandbox.id);
    if (cycle % 20 === 0) console.log(`${cycle} sandboxes with nested namespaces, veth, a bridge and XDP left attached, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  // Whatever happened, nothing of this run stays: a failed cycle's sandbox too.
  for (const sandbox of await engine.list()) await engine.destroy(sandbox.id);
}

// Network namespaces and BPF objects are freed by the kernel after the last reference goes, in a
// work queue: give it time before counting.
const settleUntil = Date.now() + SETTLE_MS;
let left = leftOnHost();
while (Object.values(left).some((count) => count > 0) && Date.now() < settleUntil) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  left = leftOnHost();
}
// V8's heap grows to its working size over the first few hundred cycles (measured: a settled 92 MiB
// until about cycle 400, then 105–106 MiB to cycle 1000), so growth is the lowest settled RSS of the
// last quarter against that of the third: a leak of 16 KiB a cycle would still add 4 MiB.
const lowestBetween = (from: number, to: number) => Math.min(...settledRss.filter(({ cycle }) => cycle > from * CYCLES && cycle <= to * CYCLES).map(({ rss }) => rss));
const rssGrowth = lowestBetween(0.75, 1) - lowestBetween(0.5, 0.75);

console.log(`\nsoak: ${CYCLES} create → exec → destroy cycles and ${XDP_CYCLES} with a learner's namespaces and XDP, in ${((performance.now() - started) / 1000).toFixed(0)} s`);
for (const [what, count] of Object.entries(left)) console.log(`  ${what.padEnd(58)} ${count}`);
console.log(`  ${'settled RSS growth of this engine process (3rd → 4th quarter)'.padEnd(58)} ${mib(rssGrowth)}${global.gc ? '' : ' (without --expose-gc)'}`);
const failed = Object.values(left).some((count) => count > 0) || rssGrowth > 4 * 1024 * 1024;
console.log(failed ? 'soak: FAILED' : 'soak: nothing left');
fs.rmSync(STATE_DIR, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

function leftOnHost() {
  const now = hostCounts();
  const liveNamespaces = liveNetworkNamespaces();
  const bpf = bpfObjects();
  return {
    'network namespaces of these sandboxes still alive': [...namespaceInodes].filter((inode) => liveNamespaces.has(inode)).length,
    'named network namespaces on the host (new)': now.namedNamespaces.filter((name) => !beforeHost.namedNamespaces.includes(name)).length,
    'veth and bridge interfaces on the host (new)': now.interfaces.filter((name) => !beforeHost.interfaces.includes(name)).length,
    [`mounts under ${STATE_DIR}`]: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${STATE_DIR}/`)).length,
    'cgroups of these sandboxes': cgroupsOf([...made]).length,
    [`BPF programs of this script's object (${PROG})`]: bpf.programs,
    [`BPF maps of this script's object (${MAP})`]: bpf.maps,
    'processes in these sandboxes, or runc of this state dir': processesLeft().length,
    [`files under ${STATE_DIR} (but its two empty top dirs)`]: filesUnder(STATE_DIR).length,
  };
}

function hostCounts() {
  const links = JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  return {
    namedNamespaces: fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [],
    interfaces: links.filter((link) => ['veth', 'bridge'].includes(link.linkinfo?.info_kind ?? '')).map((link) => link.ifname),
  };
}

// Every network namespace a process is in or the host has bind-mounted (nsfs), by inode.
function liveNetworkNamespaces() {
  const inodes = new Set<number>();
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      inodes.add(fs.statSync(`/proc/${pid}/ns/net`).ino);
    } catch {
      // gone meanwhile
    }
  }
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const match = line.match(/net:\[(\d+)\]/);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

// The programs and maps loaded from this script's object. Loaded in a sandbox, they carry no name
// the host sees (libbpf there finds the kernel without object names), but their BTF names them.
function bpfObjects() {
  const list = (kind: 'prog' | 'map') => JSON.parse(execFileSync('bpftool', [kind, 'show', '-j'], { encoding: 'utf8' }) || '[]') as { btf_id?: number }[];
  const [programs, maps] = [list('prog'), list('map')];
  const ours = new Set(
    [...new Set([...programs, ...maps].flatMap((object) => (object.btf_id === undefined ? [] : [object.btf_id])))].filter((id) => {
      try {
        return execFileSync('bpftool', ['btf', 'dump', 'id', String(id)], { encoding: 'utf8' }).includes(`'${PROG}'`);
      } catch {
        return false; // freed meanwhile
      }
    }),
  );
  const isOurs = (object: { btf_id?: number }) => object.btf_id !== undefined && ours.has(object.btf_id);
  return { programs: programs.filter(isOurs).length, maps: maps.filter(isOurs).length };
}

function cgroupsOf(ids: string[]) {
  const root = '/sys/fs/cgroup';
  return fs.readdirSync(root).flatMap((controller) => ids.map((id) => path.join(root, controller, 'wirelab', id)).filter((dir) => fs.existsSync(dir)));
}

function processesLeft() {
  return fs.readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.length === 0) return false;
      const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      return cmdline.includes(STATE_DIR) || [...made].some((id) => cgroup.includes(id));
    } catch {
      return false;
    }
  });
}

function filesUnder(dir: string): string[] {
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
  return entries.filter((entry) => !['runc', 'sandboxes'].includes(entry));
}

// The learner's XDP object, compiled once in a sandbox (the host need not have clang), as base64.
async function compileXdp() {
  const sandbox = await engine.create({ purpose: 'soak-compile' });
  try {
    const compiled = await engine.exec(
      sandbox.id,
      ['bash', '-c', `cat > /root/soak.c && ${COMPILE} -c /root/soak.c -o /root/soak.o && base64 -w0 /root/soak.o`],
      { ...EXEC, stdin: XDP_SOURCE },
    );
    if (compiled.exitCode !== 0) throw new Error(`the XDP program did not compile: ${compiled.stderr}`);
    return compiled.stdout;
  } finally {
    await engine.destroy(sandbox.id);
  }
}

function rss() {
  return process.memoryUsage().rss;
}

function mib(bytes: number) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
