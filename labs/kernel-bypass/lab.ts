import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { hostsAroundASwitch, pingsAnswered } from '../namespaces.ts';
import { xdpAttachments, XDP_ATTACHED_DRV, XDP_ATTACHED_SKB, type XdpLink } from '../xdp-attachment.ts';

// Kernel bypass, compared: the two-port switch of xdp-redirect, with the forwarding done in userspace,
// once by DPDK's testpmd and once by an AF_XDP program in C.
//   left  eth0 10.0.0.1/24 ── port-left ┐
//                                        switch: no bridge, no address, ip_forward 0
//   right eth0 10.0.0.2/24 ── port-right ┘
//
// What runs here, and what does not (kernel 6.18, Debian 13's DPDK 24.11 and libxdp 1.5, in the
// user-namespace sandbox):
// - testpmd's net_af_packet ports work: packet_create() in net/packet/af_packet.c asks for CAP_NET_RAW
//   in the user namespace owning the network namespace (ns_capable(net->user_ns, …)), which root in
//   the sandbox holds. Without hugepages (there are none) EAL needs --no-huge, and then
//   --total-num-mbufs: its default, 155,456 mbufs, does not fit in -m 32 ("Creation of mbuf pool for
//   socket 0 failed: Cannot allocate memory").
// - AF_XDP sockets work, copy mode only (a veth has no zero-copy): xsk_create() in net/xdp/xsk.c asks
//   for the same namespaced CAP_NET_RAW, and the XDP program and its xskmap are loaded through the
//   sandbox's BPF token like every XDP program of the course.
// - DPDK's net_af_xdp does not: its UMEM is the whole mbuf pool, about 4 KiB of it per mbuf here
//   (1,536 mbufs fit in 8 MiB, 1,800 did not fit in 7), and each port puts 2,048 mbufs in its fill
//   ring, so even one port needs more than 8 MiB, two over 16. A UMEM is pinned memory, and xdp_umem_account_pages() in net/xdp/xdp_umem.c charges it to
//   RLIMIT_MEMLOCK unless capable(CAP_IPC_LOCK), a check against the host's user namespace that
//   sandbox root fails. The limit is 8 MiB and root inside cannot raise it (prlimit needs
//   CAP_SYS_RESOURCE there too). Measured: "Failed to create umem [105]: No buffer space available"
//   from 1,800 mbufs up, "Failed to get enough buffers for fq" below.
// - The charge goes to the host user's locked_vm (struct user_struct, one per host uid), and every
//   sandbox's root is the same host uid: the 8 MiB are shared by all sandboxes on the machine. So
//   xsk_fwd pins 2 x 512 KiB, and says so when the budget is spent (ENOBUFS).
//
// Limits it runs within (the sandbox's: 1 CPU of quota, 512 MiB, 256 pids; the self-test's 256 MiB),
// measured with the reference solutions:
// - testpmd with -m 32 and 2,048 mbufs: 41 MB resident, the sandbox's memory use peaks 24 MiB higher
//   than before it started; its forwarding core spins whether packets come or not: 2.0 s of CPU per
//   2 s idle, the sandbox's whole quota. Hence `timeout -s INT` around it, always.
// - xsk_fwd: 3 MB resident plus its 1 MiB of UMEM; 0 s of CPU while idle (it sleeps in poll()).
//
// CPU per forwarder, measured in this sandbox over 2 s of a 58,600 packet/s UDP stream from left to
// right (iperf3 -u -b 30M -l 64): the sandbox cgroup's cpuacct.usage, sender and receiver included,
// median of 3 runs, and the forwarder's own utime+stime from /proc/<pid>/stat. Softirq work runs in
// the context of whichever task raised it (the sender), so the cgroup's figure includes it.
//   direct veth between two namespaces, no forwarder   0.80 s
//   Linux bridge in the switch                          0.88 s
//   XDP redirect through a devmap (xdp-redirect)        0.87 s  no process: softirq on the sender's CPU
//   AF_XDP, xsk_fwd                                     1.12 s  of which xsk_fwd 0.30 s
//   testpmd, net_af_packet                              2.00 s  the whole quota, testpmd 1.37 s; 30 % of
//                                                               the datagrams lost to throttling
// TCP throughput, iperf3 for 4 s: direct 7.0 Gbit/s, XDP redirect 6.1, bridge 5.8, AF_XDP 2.1, testpmd 2.0.

// /run/bpf rather than /sys/fs/bpf: `ip netns exec` mounts a fresh /sys and hides the bpffs there.
const PIN_DIR = '/run/bpf/xsk';
const PROG = `${PIN_DIR}/prog`;
const MAP = `${PIN_DIR}/xsks`;
const SCRIPT = '/root/dpdk-forward.sh';
const XSK_LOG = '/root/xsk_fwd.log';
const PORTS = ['port-left', 'port-right'] as const;
type Port = (typeof PORTS)[number];
// How long the checker lets the learner's script run testpmd: long enough for EAL to start (0.3 s
// measured) and a few pings at 0.2 s intervals.
const TESTPMD_SECONDS = 5;

const gone = 'The switch or one of its ports is gone: press Reset to get the lab back.';

interface Link extends XdpLink {
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string }[];
}

// "name=value" lines; the last value of each name wins.
function valuesOf(out: CommandOutput) {
  const values: Record<string, string> = {};
  for (const line of out.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0 && /^[a-z_-]+$/.test(line.slice(0, at))) values[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return values;
}

const switchState = sh`
  printf '{"links":%s,"forwarding":%s}' \\
    "$(ip -n switch -j -d addr show 2>/dev/null || echo null)" \\
    "$(ip netns exec switch sysctl -n net.ipv4.ip_forward 2>/dev/null || echo null)"`;

// The forwarder under test must be the only path between the ports. For testpmd that also rules out
// an XDP program: a frame XDP redirects or drops never reaches testpmd's packet sockets.
function noOtherPath({ xdpAllowed }: { xdpAllowed: boolean }) {
  return (out: CommandOutput) => {
    const { links, forwarding } = json<{ links: Link[] | null; forwarding: number | null }>(out);
    if (!links || forwarding === null || PORTS.some((port) => !links.some((link) => link.ifname === port))) return gone;
    const bridge = links.find((link) => link.linkinfo?.info_kind === 'bridge');
    if (bridge) return `The switch has a bridge, ${bridge.ifname}: here a userspace forwarder must do the switching alone. Remove it with \`ip -n switch link del ${bridge.ifname}\`.`;
    const enslaved = links.find((link) => link.master);
    if (enslaved) return `${enslaved.ifname} is enslaved to ${enslaved.master}: set it free with \`ip -n switch link set dev ${enslaved.ifname} nomaster\`.`;
    for (const port of PORTS) {
      const link = links.find((l) => l.ifname === port)!;
      const address = link.addr_info?.find((a) => a.family === 'inet');
      if (address) return `${port} has the IPv4 address ${address.local}: the switch's ports must stay without one, so that its stack cannot take part. Remove it with \`ip -n switch addr flush dev ${port}\`.`;
      if (!xdpAllowed && xdpAttachments(link).length > 0) {
        return `${port} has an XDP program attached (the AF_XDP exercise's?): what it redirects never reaches testpmd's packet sockets. Stop xsk_fwd (\`pkill -x xsk_fwd\`) and detach it: \`ip -n switch link set dev ${port} xdp off\`.`;
      }
    }
    if (Number(forwarding) !== 0) return 'net.ipv4.ip_forward is on in the switch: turn it off (`ip netns exec switch sysctl -w net.ipv4.ip_forward=0`), the userspace forwarder must be the only path.';
    return true;
  };
}

const noOtherPathName = (what: string) => `the switch has no other path: no bridge, no IPv4 address on its ports, no IP forwarding${what}`;
const noOtherPathReason = 'the switch starts as two bare ports; the check guards against a bridge or routing doing the forwarder\'s job';

// ---- testpmd ----

const scriptState = sh`
  if [ ! -f ${SCRIPT} ]; then echo script=missing; exit 0; fi
  echo "todo=$(grep -c TODO ${SCRIPT})"
  echo "testpmd=$(grep -c dpdk-testpmd ${SCRIPT})"
  echo "timeout=$(grep -c 'timeout' ${SCRIPT})"`;

function checkScript(out: CommandOutput) {
  const { script, todo, testpmd, timeout } = valuesOf(out);
  if (script === 'missing') return `${SCRIPT} is gone: press Reset to get the starter back, or write it again.`;
  if (Number(todo) > 0) return `${SCRIPT} still has TODO in it: replace the two TODO lines with testpmd's EAL options and its own options (the task lists what each must say).`;
  if (Number(testpmd) === 0) return `${SCRIPT} no longer runs dpdk-testpmd.`;
  if (Number(timeout) === 0) return `${SCRIPT} runs testpmd without \`timeout\`: its forwarding core spins at 100 % until stopped, so keep the \`timeout -s INT "$seconds"\` in front of it.`;
  return true;
}

// A ping before testpmd starts (it must not get through: nothing else forwards), then the learner's
// script in a session of its own, a few pings while testpmd runs, and testpmd's output. Whatever the
// script leaves running past its time is ended, by session, so a stray testpmd cannot keep spinning.
const testpmdRun = sh`
  if [ ! -f ${SCRIPT} ]; then echo script=missing; exit 0; fi
  if grep -q TODO ${SCRIPT}; then echo script=todo; exit 0; fi
  for port in ${PORTS.join(' ')}; do echo "mac_$port=$(ip -n switch -j link show dev $port 2>/dev/null | jq -r '.[0].address')"; done
  if ip netns exec left ping -q -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; then echo before=through; else echo before=blocked; fi
  count=$((3 + RANDOM % 4))
  echo "count=$count"
  log="$TMPDIR/dpdk-check.log"
  setsid timeout -k 1 ${TESTPMD_SECONDS + 6} bash ${SCRIPT} ${TESTPMD_SECONDS} </dev/null >$log 2>&1 &
  session=$!
  for wait in $(seq 60); do grep -q 'start packet forwarding' $log && break; kill -0 $session 2>/dev/null || break; sleep 0.1; done
  sleep 0.3
  echo "received=${pingsAnswered('left', '10.0.0.2', '-c $count -i 0.2')}"
  if kill -0 $session 2>/dev/null; then echo alive=yes; else echo alive=no; fi
  wait $session
  pkill -KILL -s $session 2>/dev/null && echo leftover=killed
  echo '--- testpmd'
  tr -d '\\033' < $log | tail -c 100000`;

interface PortStats {
  rx: number;
  tx: number;
}

// The last "Forward statistics for port N" blocks testpmd printed as it stopped, and the MAC
// address it found for each port ("Port 0: 5A:2B:56:E0:0D:E9").
function testpmdOutput(log: string) {
  const stats = new Map<number, PortStats>();
  for (const match of log.matchAll(/Forward statistics for port (\d+)[\s-]*RX-packets:\s*(\d+)[^\n]*\n\s*TX-packets:\s*(\d+)/g)) {
    stats.set(Number(match[1]), { rx: Number(match[2]), tx: Number(match[3]) });
  }
  const macs = new Map<number, string>();
  for (const match of log.matchAll(/^Port (\d+): ([0-9A-Fa-f:]{17})$/gm)) macs.set(Number(match[1]), match[2].toLowerCase());
  return { stats, macs };
}

// What testpmd or its EAL said when it refused to start, in the words of its log.
const testpmdErrors: [RegExp, string][] = [
  [/Cannot get hugepage information/, 'EAL looked for hugepages, and a sandbox has none: add `--no-huge` (EAL then takes ordinary memory, as much as `-m` says).'],
  [/Creation of mbuf pool for socket \d+ failed/, 'testpmd could not fit its packet buffers in the memory EAL has: without hugepages it asks for 155,456 mbufs of about 2 KiB by default. Ask for fewer with `--total-num-mbufs=2048` (a testpmd option, after `--`) and give EAL `-m 32`.'],
  [/No cores defined for forwarding/, 'testpmd has no core to forward on: the first core of `-l` runs the main thread, so give it two (`-l 0-1`).'],
  [/SIOCGIFINDEX\):No such device|failed to initialize net_af_packet/, 'A net_af_packet port could not find its interface: is the script running testpmd inside the switch namespace (`ip netns exec switch`), with `iface=port-left` and `iface=port-right`?'],
  [/No probed ethernet devices/, 'testpmd found no port at all: a sandbox has no PCI network card for DPDK to take, so create the two ports as virtual devices: `--vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right`.'],
  [/command not found/, 'A command in the script was not found.'],
  [/Cannot init EAL|EAL: Error|invalid option|unrecognized option/, 'EAL or testpmd refused the command line.'],
];

function checkTestpmd(out: CommandOutput) {
  const [head, log = ''] = out.stdout.split('--- testpmd\n');
  const values = valuesOf({ ...out, stdout: head });
  if (values.script === 'missing') return `${SCRIPT} is gone: press Reset to get the starter back, or write it again.`;
  if (values.script === 'todo') return `${SCRIPT} still has TODO in it: fill in testpmd's options first.`;
  const macs = { 'port-left': values['mac_port-left'], 'port-right': values['mac_port-right'] };
  if (!macs['port-left'] || macs['port-left'] === 'null' || !macs['port-right'] || macs['port-right'] === 'null') return gone;
  if (values.before === 'through') {
    return 'Before the checker started your script, its ping from left already reached right: something else forwards between the ports (xsk_fwd from the AF_XDP exercise, a bridge, routing). Stop it (`pkill -x xsk_fwd`, then the "no other path" check says what else), so that testpmd is the only path.';
  }
  const count = Number(values.count);
  const received = Number(values.received || 0);
  const leftover = values.leftover === 'killed' ? ` Your script was still running ${TESTPMD_SECONDS + 6} s later, so the checker ended it: keep the \`timeout -s INT "$seconds"\` in front of testpmd.` : '';
  const lastLines = log.trim().split('\n').slice(-4).join(' / ');
  const { stats, macs: portMacs } = testpmdOutput(log);
  const known = testpmdErrors.find(([pattern]) => pattern.test(log));
  const refused = known && `testpmd did not forward: it said "${log.split('\n').find((line) => known[0].test(line))?.trim()}". ${known[1]}${leftover}`;
  if (stats.size === 0) {
    if (refused) return refused;
    return `testpmd printed no forward statistics (they come when it stops, on SIGINT from \`timeout -s INT\`). Its last lines: ${lastLines || '(nothing)'}.${leftover}`;
  }
  const portOf = (port: Port) => [...portMacs].find(([, mac]) => mac === macs[port])?.[0];
  const left = portOf('port-left');
  const right = portOf('port-right');
  if (left === undefined || right === undefined) {
    if (refused) return refused;
    const found = [...portMacs].map(([n, mac]) => `port ${n} has MAC ${mac}`).join(', ') || 'no port MAC';
    return `testpmd's ports are not port-left (${macs['port-left']}) and port-right (${macs['port-right']}): its log shows ${found}. Give each --vdev the right iface=.${leftover}`;
  }
  const l = stats.get(left) ?? { rx: 0, tx: 0 };
  const r = stats.get(right) ?? { rx: 0, tx: 0 };
  const numbers = `testpmd counted ${l.rx} frames received and ${l.tx} sent on port-left (its port ${left}), ${r.rx} received and ${r.tx} sent on port-right (port ${right})`;
  if (received < count) {
    if (/Press enter to exit/.test(log) && values.alive === 'no') {
      return `testpmd had stopped before the checker's pings were done, long before its ${TESTPMD_SECONDS} s: without \`-i\` it forwards and waits for Enter on its standard input, and the script's is /dev/null, so it read end-of-file and quit. Add \`--stats-period 1\` to its options: it then prints its counters every second until \`timeout\` stops it.${leftover}`;
    }
    const sent = `The checker pinged right from left ${count} times while your script ran, and ${received} came back; ${numbers}.`;
    if (l.rx === 0) return `${sent} Nothing reached testpmd from port-left: did forwarding start before the pings (its log: ${lastLines})?${leftover}`;
    return `${sent}${leftover}`;
  }
  if (l.rx < count || r.tx < count || r.rx < count || l.tx < count) {
    return `The checker's ${count} pings crossed, but ${numbers}: fewer than the pings and their replies, so something else carried them.${leftover}`;
  }
  if (leftover) return leftover.trim();
  return true;
}

// ---- AF_XDP ----

const pinned = sh`
  prog=$(bpftool -j prog show pinned ${PROG} 2>/dev/null) || prog=null
  map=$(bpftool -j map show pinned ${MAP} 2>/dev/null) || map=null
  printf '{"prog":%s,"map":%s}' "$prog" "$map"`;

interface Pinned {
  prog: { id: number; type: string; map_ids?: number[] } | null;
  map: { id: number; type: string } | null;
}

function checkPinned(out: CommandOutput) {
  const { prog, map } = json<Pinned>(out);
  const load = `\`mkdir -p ${PIN_DIR}\`, then \`bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}\``;
  if (!prog) return `Nothing is pinned at ${PROG}: compile xsk_redirect.c and load it with ${load}.`;
  if (prog.type !== 'xdp') return `${PROG} is a ${prog.type} program, not an XDP one: load it with \`type xdp\`.`;
  if (!map) return `There is no map at ${MAP}: load the program with \`pinmaps ${PIN_DIR}\`, which pins its xskmap there under its own name.`;
  if (map.type !== 'xskmap') return `${MAP} is a ${map.type} map: bpf_redirect_map() hands frames to AF_XDP sockets only through an xskmap.`;
  if (!prog.map_ids?.length) {
    return `The program at ${PROG} uses no map: it still returns XDP_PASS where the TODO is (a map the code never uses is left out when it is compiled). Finish the TODO, compile, then \`rm -r ${PIN_DIR}\` and load again.`;
  }
  if (!prog.map_ids.includes(map.id)) {
    return `The program at ${PROG} does not use the map at ${MAP} (map ${map.id}; it uses ${prog.map_ids.join(', ')}): it was loaded twice. Start again: \`rm -r ${PIN_DIR}\`, then ${load}, and attach again.`;
  }
  return true;
}

const attached = sh`
  prog=$(bpftool -j prog show pinned ${PROG} 2>/dev/null | jq '.id') || prog=null
  printf '{"prog":%s,"port-left":%s,"port-right":%s}' "\${prog:-null}" \\
    "$(ip -n switch -j -d link show dev port-left 2>/dev/null || echo null)" \\
    "$(ip -n switch -j -d link show dev port-right 2>/dev/null || echo null)"`;

function checkAttached(out: CommandOutput) {
  const state = json<{ prog: number | null } & Record<Port, Link[] | null>>(out);
  const missing: string[] = [];
  for (const port of PORTS) {
    const link = state[port]?.[0];
    if (!link) return gone;
    const attachments = xdpAttachments(link);
    const native = attachments.find((a) => a.mode === XDP_ATTACHED_DRV);
    if (native) {
      if (state.prog !== null && native.prog?.id !== state.prog) {
        return `${port} runs XDP program ${native.prog?.id}, not the one pinned at ${PROG} (${state.prog}): attach the pinned one, \`ip -n switch link set dev ${port} xdp pinned ${PROG}\` (after \`xdp off\`).`;
      }
      continue;
    }
    if (attachments.some((a) => a.mode === XDP_ATTACHED_SKB)) {
      return `${port}'s program is attached in generic mode (\`xdpgeneric\`), which runs only once the kernel has built an sk_buff: attach it natively, \`ip -n switch link set dev ${port} xdpgeneric off\`, then \`… xdp pinned ${PROG}\`.`;
    }
    missing.push(port);
  }
  if (missing.length === 0) return state.prog === null ? `Nothing is pinned at ${PROG}: load xsk_redirect.o there first.` : true;
  return `${missing.join(' and ')} ${missing.length === 1 ? 'has' : 'have'} no XDP program: attach the pinned one with \`ip -n switch link set dev ${missing[0]} xdp pinned ${PROG}\`.`;
}

const forwarder = sh`
  echo "switch=$(ip netns exec switch readlink /proc/self/ns/net 2>/dev/null)"
  for pid in $(pgrep -x xsk_fwd); do echo "process=$pid $(readlink /proc/$pid/ns/net)"; done
  [ -f ${XSK_LOG} ] && echo "log=$(tail -n 2 ${XSK_LOG} | tr '\\n' ' ')"
  true`;

function checkForwarder(out: CommandOutput) {
  const processes = out.stdout.split('\n').filter((line) => line.startsWith('process=')).map((line) => line.slice('process='.length).split(' '));
  const { switch: switchNamespace, log } = valuesOf(out);
  if (!switchNamespace) return gone;
  if (processes.length === 0) {
    const said = log ? ` Its log (${XSK_LOG}) ends with: ${log.trim()}` : '';
    return `No xsk_fwd is running: build it (\`gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf\`) and start it in the switch, in the background: \`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`.${said}`;
  }
  const inSwitch = processes.find(([, namespace]) => namespace === switchNamespace);
  if (!inSwitch) return `xsk_fwd runs (pid ${processes[0][0]}), but not in the switch namespace, where the ports are: stop it (\`kill ${processes[0][0]}\`) and start it with \`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`.`;
  return true;
}

// The checker's pings from left to right between two readings of the ports' per-queue XDP
// counters. veth counts a frame in xdp_redirect only once the redirect succeeded (veth_xdp_rcv_one()
// in drivers/net/veth.c), here into an AF_XDP socket's RX ring, and in drops when it failed.
const xskCrossing = sh`
  count=$((3 + RANDOM % 4))
  echo "count=$count"
  counters() {
    for port in ${PORTS.join(' ')}; do
      ip netns exec switch ethtool -S $port 2>/dev/null | awk -v p="$1_$port" '
        $1 ~ /^rx_queue_[0-9]+_xdp_packets:$/ { seen += $2 }
        $1 ~ /^rx_queue_[0-9]+_xdp_redirect:$/ { redirected += $2 }
        $1 ~ /^rx_queue_[0-9]+_drops:$/ { failed += $2 }
        END { print p "_seen=" seen + 0; print p "_redirected=" redirected + 0; print p "_failed=" failed + 0 }'
    done
  }
  counters before
  echo "received=${pingsAnswered('left', '10.0.0.2', '-c $count -i 0.2')}"
  counters after
  echo "running=$(pgrep -x xsk_fwd | wc -l)"`;

function checkXskCrossing(out: CommandOutput) {
  const values = valuesOf(out);
  const number = (name: string) => (values[name] === undefined || values[name] === '' ? NaN : Number(values[name]));
  const rise = (port: Port, what: string) => number(`after_${port}_${what}`) - number(`before_${port}_${what}`);
  const count = number('count');
  const received = number('received') || 0;
  if (PORTS.some((port) => ['seen', 'redirected', 'failed'].some((what) => Number.isNaN(rise(port, what))))) return gone;
  const numbers = PORTS.map((port) => `${port}'s XDP program saw ${rise(port, 'seen')} frames, redirected ${rise(port, 'redirected')} to its socket and failed ${rise(port, 'failed')}`).join('; ');
  const sent = `The checker pinged right from left ${count} times and ${received} came back. Meanwhile ${numbers}.`;
  if (received < count) {
    const running = number('running') > 0;
    if (rise('port-left', 'seen') === 0) return `${sent} No XDP program ran on port-left: is the pinned program attached natively to both ports?`;
    if (rise('port-left', 'failed') > 0) return `${sent} The kernel could not put frames into xsk_fwd's socket (rx_queue_0_drops): its fill ring was empty, so xsk_fwd is not giving frames back. Restart it.`;
    if (rise('port-left', 'redirected') === 0) {
      if (!running) return `${sent} No xsk_fwd is running, so the xskmap holds no socket and bpf_redirect_map() returned its fallback (XDP_PASS): start it again (\`ip netns exec switch ./xsk_fwd port-left port-right > ${XSK_LOG} 2>&1 &\`).`;
      return `${sent} Nothing was redirected: does xsk_redirect.c return bpf_redirect_map(&xsks, ctx->ingress_ifindex, XDP_PASS)? If it keys by something else than the ingress ifindex, the lookup finds no socket: xsk_fwd writes each socket under its port's ifindex. Rebuilt it? Then \`rm -r ${PIN_DIR}\`, load and attach again, and restart xsk_fwd (its sockets went with the old map).`;
    }
    if (rise('port-right', 'redirected') === 0) return `${sent} The requests reached xsk_fwd, but no reply came back into port-right: did xsk_fwd send them out of port-right (its log, ${XSK_LOG})?`;
    return sent;
  }
  const bypassed = PORTS.find((port) => rise(port, 'redirected') < count);
  if (bypassed) return `${sent} The pings crossed, but ${bypassed}'s program redirected fewer frames than there were pings: something else carried them.`;
  return true;
}

// The measurements above, as the tasks state them (one line: the page joins a paragraph's lines).
const CPU_FIGURES =
  'a direct veth between two namespaces, no forwarder, 0.80 s; a Linux bridge in the switch, 0.88 s; ' +
  'the XDP redirect of "Redirect between two ports", 0.87 s, and no process at all: its work runs in softirq, on the sender\'s CPU; ' +
  'AF_XDP with xsk_fwd, 1.12 s, of which xsk_fwd itself 0.30 s; ' +
  'testpmd, 2.00 s, the whole quota, of which testpmd 1.37 s, and 30 % of the datagrams were lost because the sandbox was throttled';

export default defineLab({
  id: 'kernel-bypass',
  title: 'Kernel bypass, compared',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['left', 'switch', 'right'],
  files: true,
  // Checksum offload off on the hosts: a TCP segment leaves a veth with its checksum still to be
  // computed, and neither a packet socket (testpmd) nor an AF_XDP copy carries that note along, so
  // the receiver would find it wrong (TcpInCsumErrors). TSO off: testpmd's 2 KiB mbufs cannot hold
  // the 64 KiB segments a veth sends to a packet socket otherwise.
  setup: hostsAroundASwitch('tso off tx off'),
  counters: [
    { kind: 'link', namespace: 'switch', device: 'port-left' },
    { kind: 'link', namespace: 'switch', device: 'port-right' },
    { kind: 'xdp', namespace: 'switch', device: 'port-left' },
  ],
  exercises: [
    {
      id: 'forward-with-testpmd',
      title: 'Forward between two ports with DPDK\'s testpmd',
      task: sh`
        The switch of "Redirect between two ports" is back: left (10.0.0.1) and right (10.0.0.2) each
        reach a port of the switch namespace, port-left and port-right, and the switch has no
        bridge, no address and no routing. This time a program in userspace forwards: first DPDK's
        testpmd, then (next exercise) an AF_XDP forwarder in C.

        DPDK is made to drive a network card itself: bound to vfio-pci, the card's registers and
        DMA rings are mapped into the process, whose poll-mode driver reads them in a loop, and the
        kernel never sees a packet. A sandbox can have none of that (no card, no IOMMU, no
        hugepages, and root here cannot bind a driver), so testpmd takes the ports through its
        AF_PACKET driver, net_af_packet: a packet socket per port, the kernel's receive path up to
        the packet tap, then a copy into testpmd's ring. Same program, same polling, no bypass.

        Finish \`/root/dpdk-forward.sh\`: it runs testpmd in the switch namespace for as many seconds
        as its first argument says. Replace the two TODO lines.

        EAL options: \`-l 0-1\` (core 0 runs the main thread, core 1 forwards), \`--no-huge\`
        (ordinary memory instead of hugepages) with \`-m 32\` (MiB of it), \`--no-pci\` (nothing to
        probe), and the two ports: \`--vdev=net_af_packet0,iface=port-left\` and
        \`--vdev=net_af_packet1,iface=port-right\`.

        After \`--\`, testpmd's own options: \`--forward-mode=io\` (what comes in on one port leaves by
        the other, untouched), \`--total-num-mbufs=2048\` (its default, 155,456 packet buffers, does
        not fit in 32 MiB) and \`--stats-period 1\` (print the counters every second; without it
        testpmd waits for Enter, and the script's standard input is /dev/null).

        Run it (\`bash dpdk-forward.sh 20\`) and ping right from left in another tab (\`ping
        10.0.0.2\` in left). In a third, \`top -H\` shows the thread dpdk-worker1 at 100 % whether
        pings flow or not: a poll-mode driver never sleeps. That is why the script runs it under
        \`timeout -s INT\`, which stops it as Ctrl-C would (it prints its forward statistics, then
        exits). TCP works too (\`iperf3\`): setup turned checksum offload and TSO off on the hosts'
        eth0, because a packet socket passes on neither a checksum still to compute nor a 64 KiB
        segment that a 2 KiB mbuf could hold.

        The checker pings once (it must fail: nothing else forwards), runs \`bash
        /root/dpdk-forward.sh ${TESTPMD_SECONDS}\`, pings a few times while testpmd runs, and reads
        testpmd's forward statistics.

        The cost, measured in this sandbox: 1 CPU of quota, 512 MiB of memory (this testpmd is 41 MB
        resident). CPU used by the whole sandbox, sender and receiver included, over 2 s of a
        58,600 packet/s UDP stream from left to right: ${CPU_FIGURES}. Idle, testpmd still takes
        2.0 s of CPU every 2 s. DPDK's AF_XDP driver (net_af_xdp) does not run here at all: its
        UMEM is its whole mbuf pool, over 16 MiB for two ports, and the kernel charges pinned UMEM
        memory to a locked-memory limit of 8 MiB that root in a sandbox cannot raise ("Failed to
        create umem: No buffer space available").`,
      checks: [
        { name: noOtherPathName(', no XDP program on the ports'), run: switchState, pass: noOtherPath({ xdpAllowed: false }) },
        { name: `${SCRIPT} has its options filled in and keeps testpmd under timeout`, run: scriptState, pass: checkScript },
        {
          name: 'pings from left reach right through testpmd, and only while it runs',
          run: testpmdRun,
          pass: checkTestpmd,
          timeoutMs: 25_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [noOtherPathName(', no XDP program on the ports')]: noOtherPathReason,
      },
      hint: sh`
        The two lines, in full:
        \`-l 0-1 --no-huge --no-pci -m 32 --vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right \\\`
        and \`-- --forward-mode=io --total-num-mbufs=2048 --stats-period 1 \\\` (keep the backslashes
        that continue the command). If testpmd stops at once, read its first error: "Cannot get
        hugepage information" wants --no-huge, "Creation of mbuf pool … failed" wants fewer mbufs,
        "No probed ethernet devices" wants the --vdev options, "No such device" an iface that exists
        in the switch. \`ip netns exec switch ethtool -S port-left\` or \`ip -n switch -s link\` show
        the ports' own counters moving while testpmd runs.`,
      solution: sh`
        cat > ${SCRIPT} <<'EOF'
        #!/bin/bash
        seconds=\${1:-10}
        ip netns exec switch timeout -s INT "$seconds" dpdk-testpmd \\
        	-l 0-1 --no-huge --no-pci -m 32 \\
        	--vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right \\
        	-- --forward-mode=io --total-num-mbufs=2048 --stats-period 1 \\
        	</dev/null
        EOF
        bash ${SCRIPT} 3 > /tmp/testpmd.log 2>&1 &
        sleep 1
        ip netns exec left ping -c 3 -i 0.2 10.0.0.2
        wait
        grep -A 3 'Forward statistics for port' /tmp/testpmd.log`,
    },
    {
      id: 'forward-with-af-xdp',
      title: 'Forward between two ports with AF_XDP',
      task: sh`
        Same switch, another way out of the kernel: an AF_XDP socket. An XDP program on each port
        redirects every frame, through an xskmap, to a socket bound to that port; the kernel copies
        the frame into the socket's UMEM (memory the program registered and shares with the kernel)
        and puts a descriptor on the socket's RX ring. The program reads the ring, and sends by
        putting descriptors on a TX ring. On a veth that is copy mode, the only one there is
        (zero-copy needs a driver that DMAs into the UMEM itself).

        Two files in /root do it: \`xsk_redirect.c\`, the XDP half, and \`xsk_fwd.c\`, the userspace
        half, complete: it registers a 512 KiB UMEM per port, binds a socket to each port's queue 0,
        writes each socket into the pinned xskmap under its port's ifindex, then sleeps in poll()
        and copies whatever one port receives onto the other's TX ring. Read its \`forward()\`.

        1. Finish \`xsk_redirect.c\` (one line: as in "Redirect between two ports", with an xskmap
        instead of a devmap and XDP_PASS when no socket is there) and compile it:
        \`${COMPILE} -c xsk_redirect.c -o xsk_redirect.o\`.

        2. Load it, pinning it and its xskmap in ${PIN_DIR}: \`mkdir -p ${PIN_DIR}\`, then
        \`bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}\`.

        3. Attach it natively to both ports: \`ip -n switch link set dev port-left xdp pinned ${PROG}\`,
        then port-right.

        4. Build the forwarder, \`gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf\`, and start it in
        the switch, in the background: \`ip netns exec switch ./xsk_fwd port-left port-right >
        ${XSK_LOG} 2>&1 &\`. Ping right from left: xsk_fwd's log counts the frames.

        Now compare with testpmd: \`top\` shows xsk_fwd at 0 % while nothing flows, since it sleeps
        in poll() until a frame arrives. The cost of a frame is higher than with XDP alone: a copy
        into the UMEM, a wake-up, a copy between UMEMs, a sendto() that builds an sk_buff again.
        Measured in this sandbox (1 CPU of quota, 512 MiB; xsk_fwd is 3 MB resident plus its 1 MiB
        of pinned UMEM), CPU used by the whole sandbox over 2 s of a 58,600 packet/s UDP stream:
        ${CPU_FIGURES}; and TCP (iperf3): direct 7.0 Gbit/s, XDP redirect 6.1, bridge 5.8, AF_XDP
        2.1, testpmd 2.0.

        The UMEM is pinned memory, charged to the locked-memory limit (\`ulimit -l\`: 8 MiB) of the host
        user that root in every sandbox is, so all sandboxes on this machine share those 8 MiB: keep
        UMEMs small. The checker pings right from left a few times and expects the XDP programs on
        both ports to have redirected each request and each reply into xsk_fwd's sockets
        (rx_queue_0_xdp_redirect in \`ip netns exec switch ethtool -S port-left\`).`,
      checks: [
        { name: `the XDP program and its xskmap are pinned at ${PROG} and ${MAP}`, run: pinned, pass: checkPinned },
        { name: 'the pinned program is attached natively to port-left and port-right', run: attached, pass: checkAttached },
        { name: 'xsk_fwd runs in the switch namespace', run: forwarder, pass: checkForwarder },
        { name: noOtherPathName(''), run: switchState, pass: noOtherPath({ xdpAllowed: true }) },
        {
          name: 'pings from left reach right through xsk_fwd\'s AF_XDP sockets',
          run: xskCrossing,
          pass: checkXskCrossing,
          timeoutMs: 15_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [noOtherPathName('')]: noOtherPathReason,
      },
      hint: sh`
        The line: \`return bpf_redirect_map(&xsks, ctx->ingress_ifindex, XDP_PASS);\`. xsk_fwd writes
        each socket under its port's ifindex, and a socket only takes frames from the device and
        queue it is bound to, so the key must be the port the frame came in on. If xsk_fwd stops at
        once, its log says why: "writing the socket into the xskmap" means the map is not at ${MAP},
        "No buffer space available" that the machine's locked-memory budget is spent for now.
        Changed the program? Stop xsk_fwd (\`pkill -x xsk_fwd\`), detach
        (\`ip -n switch link set dev port-left xdp off\`, both ports), \`rm -r ${PIN_DIR}\`, and load,
        attach and start again.`,
      solution: sh`
        cd /root
        sed -i 's|return XDP_PASS; // TODO.*|return bpf_redirect_map(\\&xsks, ctx->ingress_ifindex, XDP_PASS);|' xsk_redirect.c
        ${COMPILE} -c xsk_redirect.c -o xsk_redirect.o
        mkdir -p ${PIN_DIR}
        bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}
        ip -n switch link set dev port-left xdp pinned ${PROG}
        ip -n switch link set dev port-right xdp pinned ${PROG}
        gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf
        ip netns exec switch setsid ./xsk_fwd port-left port-right </dev/null >${XSK_LOG} 2>&1 &
        sleep 0.5
        ip netns exec left ping -c 3 -i 0.2 10.0.0.2
        sleep 1
        cat ${XSK_LOG}`,
    },
  ],
});
