import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { hostsAroundASwitch, pingsAnswered } from '../namespaces.ts';

// Three namespaces on one subnet, the switch in the middle with a port towards each host:
//   left  eth0 10.0.0.1/24 ── port-left ┐
//                                        switch: no bridge, no address, ip_forward 0
//   right eth0 10.0.0.2/24 ── port-right ┘
// The learner's XDP program on both ports is the only path between the hosts.
//
// Two veth quirks that setup takes care of on the hosts' eth0, both measured on 6.18:
// - a veth transmits redirected frames by putting them in its peer's NAPI queue, so it accepts them
//   only while the peer has NAPI (veth_set_xdp_features() advertises NETDEV_XDP_ACT_NDO_XMIT when
//   the peer has an XDP program or GRO requested; __xdp_enqueue() in kernel/bpf/devmap.c refuses a
//   target without it). Without it, every frame counts in the ingress port's rx_queue_0_drops.
//   GRO on eth0 gives it NAPI: unlike XDP_TX (see xdp-tx-bounce), a devmap flush kicks the
//   target's NAPI itself (bq_xmit_all() with XDP_XMIT_FLUSH).
// - a TCP segment leaves a veth with its checksum still to be computed (CHECKSUM_PARTIAL). Once
//   XDP redirects it, it is a bare xdp_frame, the receiving veth builds a new sk_buff from it with
//   no checksum state, and TCP finds the checksum wrong: TcpInCsumErrors, and TCP never connects,
//   while ping works (ICMP checksums are computed in software). `tx off` makes the sender compute them.
// TSO needs no care: attaching a native XDP program to a veth turns TSO off on its peer
// (veth_xdp_set(), veth_fix_features()), so no oversized GSO frame ever reaches the switch. (Generic
// XDP would keep it, and drop those frames on redirect; the checks ask for native mode anyway.)

// /run/bpf rather than /sys/fs/bpf: `ip netns exec` mounts a fresh /sys and hides the bpffs there.
const PIN_DIR = '/run/bpf/switch';
const PROG = `${PIN_DIR}/prog`;
const MAP = `${PIN_DIR}/ports`;
const PORTS = ['port-left', 'port-right'] as const;
// ip -j prints the attach mode as XDP_ATTACHED_* from include/uapi/linux/if_link.h.
const XDP_ATTACHED_DRV = 1;
const XDP_ATTACHED_SKB = 2;
const CHECK_PORT = 9099;

interface Link {
  ifindex: number;
  ifname: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  xdp?: { mode?: number; prog?: { id: number }; attached?: { mode: number }[] };
  addr_info?: { family: string; local: string }[];
}

const other = (port: (typeof PORTS)[number]) => (port === 'port-left' ? 'port-right' : 'port-left');
const xdpModes = (link: Link) => link.xdp?.attached?.map((a) => a.mode) ?? (link.xdp?.mode ? [link.xdp.mode] : []);
const gone = 'The switch or one of its ports is gone: press Reset to get the lab back.';

const portLinks = sh`
  printf '{"port-left":%s,"port-right":%s}' \\
    "$(ip -n switch -j -d link show dev port-left 2>/dev/null || echo null)" \\
    "$(ip -n switch -j -d link show dev port-right 2>/dev/null || echo null)"`;

function checkAttached(out: CommandOutput) {
  const links = json<Record<string, Link[] | null>>(out);
  const missing: string[] = [];
  for (const port of PORTS) {
    const link = links[port]?.[0];
    if (!link) return gone;
    const modes = xdpModes(link);
    if (modes.includes(XDP_ATTACHED_DRV)) continue;
    if (modes.includes(XDP_ATTACHED_SKB)) {
      return `${port}'s program is attached in generic mode (\`xdpgeneric\`), which runs only once the driver has handed the packet to the stack as an sk_buff, and redirects it as one: attach it natively (\`ip -n switch link set dev ${port} xdp pinned ${PROG}\`, after \`xdpgeneric off\`).`;
    }
    missing.push(port);
  }
  if (missing.length === 0) return true;
  return `${missing.join(' and ')} ${missing.length === 1 ? 'has' : 'have'} no XDP program: attach the pinned one with \`ip -n switch link set dev ${missing[0]} xdp pinned ${PROG}\`.`;
}

// The devmap as the kernel holds it (an entry's value is the ifindex it resolved), and the switch's
// links, to name what each entry points at.
const devmap = sh`
  map=$(bpftool -j map show pinned ${MAP} 2>/dev/null) || map=null
  entries=$(bpftool -j map dump pinned ${MAP} 2>/dev/null) || entries=null
  printf '{"map":%s,"entries":%s,"links":%s}' "$map" "$entries" "$(ip -n switch -j link show 2>/dev/null || echo null)"`;

interface DevmapState {
  map: { type: string; max_entries: number } | null;
  entries: { key: string[]; value: string[] | { error: string } }[] | null;
  links: Link[] | null;
}

// bpftool prints keys and values as bytes ("0x02"); a __u32 is stored lowest byte first on x86.
const u32 = (bytes: string[]) => bytes.reduce((n, byte, i) => n + Number(byte) * 2 ** (8 * i), 0);
const asBytes = (n: number) => [0, 1, 2, 3].map((i) => Math.floor(n / 2 ** (8 * i)) % 256).join(' ');

function checkDevmap(out: CommandOutput) {
  const { map, entries, links } = json<DevmapState>(out);
  const ifindex = (name: string) => links?.find((link) => link.ifname === name)?.ifindex;
  if (!links || PORTS.some((port) => ifindex(port) === undefined)) return gone;
  if (!map || !entries) return `Nothing is pinned at ${MAP} yet: load the program with \`mkdir -p ${PIN_DIR}; bpftool prog load xdp_switch.o ${PROG} type xdp pinmaps ${PIN_DIR}\`.`;
  if (!map.type.startsWith('devmap')) return `${MAP} is a ${map.type} map: bpf_redirect_map() needs a devmap.`;
  const table = new Map(entries.flatMap((entry) => (Array.isArray(entry.value) ? [[u32(entry.key), u32(entry.value)] as const] : [])));
  for (const port of PORTS) {
    const from = ifindex(port)!;
    const to = ifindex(other(port))!;
    const update = `\`ip netns exec switch bpftool map update pinned ${MAP} key ${asBytes(from)} value ${asBytes(to)}\``;
    const target = table.get(from);
    if (target === undefined) return `The devmap has no entry for ${port} (ifindex ${from}) yet: add it with ${update}.`;
    if (target !== to) {
      const name = links.find((link) => link.ifindex === target)?.ifname;
      return `The devmap sends what enters ${port} (key ${from}) to ifindex ${target}${name ? ` (${name})` : ''}, not to ${other(port)} (ifindex ${to}): fix it with ${update}.`;
    }
  }
  return true;
}

const switchState = sh`
  printf '{"links":%s,"forwarding":%s}' \\
    "$(ip -n switch -j -d addr show 2>/dev/null || echo null)" \\
    "$(ip netns exec switch sysctl -n net.ipv4.ip_forward 2>/dev/null || echo null)"`;

function checkNoOtherPath(out: CommandOutput) {
  const { links, forwarding } = json<{ links: Link[] | null; forwarding: number | null }>(out);
  if (!links || forwarding === null) return gone;
  const bridge = links.find((link) => link.linkinfo?.info_kind === 'bridge');
  if (bridge) return `The switch has a bridge, ${bridge.ifname}: here XDP must do the switching alone. Remove it with \`ip -n switch link del ${bridge.ifname}\`.`;
  const enslaved = links.find((link) => link.master);
  if (enslaved) return `${enslaved.ifname} is enslaved to ${enslaved.master}: set it free with \`ip -n switch link set dev ${enslaved.ifname} nomaster\`.`;
  for (const port of PORTS) {
    const address = links.find((link) => link.ifname === port)?.addr_info?.find((a) => a.family === 'inet');
    if (address) return `${port} has the IPv4 address ${address.local}: the switch's ports must stay without one, so that its stack cannot take part. Remove it with \`ip -n switch addr flush dev ${port}\`.`;
  }
  if (Number(forwarding) !== 0) return 'net.ipv4.ip_forward is on in the switch: turn it off (`ip netns exec switch sysctl -w net.ipv4.ip_forward=0`), the XDP program must be the only path.';
  return true;
}

// The checker's pings and a short TCP exchange from left to right (one line each way), between two
// readings of the switch ports' per-queue XDP counters and of the hosts' TcpInCsumErrors. Prints
// "name value" lines.
const crossing = sh`
  count=$((3 + RANDOM % 4))
  echo "count $count"
  for port in ${PORTS.join(' ')}; do echo "ifindex_$port $(ip -n switch -j link show dev $port 2>/dev/null | jq '.[0].ifindex')"; done
  counters() {
    for port in ${PORTS.join(' ')}; do
      ip netns exec switch ethtool -S $port 2>/dev/null | awk -v p="$1_$port" '
        $1 ~ /^rx_queue_[0-9]+_xdp_redirect:$/ { redirected += $2 }
        $1 ~ /^rx_queue_[0-9]+_xdp_drops:$/ { dropped += $2 }
        $1 ~ /^rx_queue_[0-9]+_drops:$/ { failed += $2 }
        END { print p "_redirected", redirected + 0; print p "_dropped", dropped + 0; print p "_failed", failed + 0 }'
    done
    for host in left right; do echo "$1_csum_errors_$host $(ip netns exec $host nstat -sazj TcpInCsumErrors 2>/dev/null | jq '.kernel.TcpInCsumErrors // empty')"; done
  }
  counters before
  echo "received ${pingsAnswered('left', '10.0.0.2', '-c $count -i 0.2')}"
  token=$RANDOM$RANDOM
  ip netns exec right sh -c "echo right-$token | timeout 3 nc -l -N 10.0.0.2 ${CHECK_PORT} > $TMPDIR/switch-check.right" 2>/dev/null &
  for wait in $(seq 40); do ip netns exec right ss -Htln 'sport = :${CHECK_PORT}' | grep -q . && break; sleep 0.05; done
  echo left-$token | ip netns exec left timeout 2 nc -N 10.0.0.2 ${CHECK_PORT} > $TMPDIR/switch-check.left 2>/dev/null
  wait
  echo "tcp $(( $(cat $TMPDIR/switch-check.right 2>/dev/null | grep -c "^left-$token$") + $(cat $TMPDIR/switch-check.left 2>/dev/null | grep -c "^right-$token$") ))"
  counters after`;

function checkCrossing(out: CommandOutput) {
  const values = new Map(out.stdout.trim().split('\n').map((line) => {
    const [name, value] = line.split(' ');
    return [name, value === undefined || value === '' ? NaN : Number(value)] as const;
  }));
  const get = (name: string) => values.get(name) ?? NaN;
  const rise = (name: string) => get(`after_${name}`) - get(`before_${name}`);
  const count = get('count');
  const received = get('received');
  const tcpLines = get('tcp');
  const counted = PORTS.flatMap((port) => ['redirected', 'dropped', 'failed'].map((what) => `${port}_${what}`)).concat('csum_errors_left', 'csum_errors_right');
  if (counted.some((name) => Number.isNaN(rise(name))) || Number.isNaN(received)) return gone;
  const numbers = PORTS.map((port) => `${port} redirected ${rise(`${port}_redirected`)}, dropped ${rise(`${port}_dropped`)} (rx_queue_0_xdp_drops) and failed to redirect ${rise(`${port}_failed`)} (rx_queue_0_drops)`).join('; ');
  if (received < count) {
    const sent = `The checker sent ${count} pings from left to 10.0.0.2 and ${received} came back. Meanwhile ${numbers}.`;
    const dropping = PORTS.find((port) => rise(`${port}_dropped`) > 0);
    if (dropping) return `${sent} The program on ${dropping} returned XDP_DROP: bpf_redirect_map() found no devmap entry for its ifindex (${get(`ifindex_${dropping}`)}), or your program drops.`;
    const failing = PORTS.find((port) => rise(`${port}_failed`) > 0);
    if (failing) return `${sent} The kernel could not send what entered ${failing} out of ${other(failing)}: a veth takes redirected frames only while its peer (eth0 across the cable) has NAPI, and setup turned GRO on there for that. Is it still on (\`ethtool -k eth0 | grep generic-receive\` in left and right)?`;
    if (PORTS.every((port) => rise(`${port}_redirected`) === 0)) return `${sent} Nothing was redirected: do both ports run your program, and does it return bpf_redirect_map(&ports, ctx->ingress_ifindex, …)?`;
    return `${sent}`;
  }
  if (!(tcpLines >= 2)) {
    const csumErrors = rise('csum_errors_left') + rise('csum_errors_right');
    if (csumErrors > 0) return `Pings cross the switch, but the checker's TCP exchange failed: the hosts counted ${csumErrors} segments with a bad checksum (TcpInCsumErrors). With checksum offload on, a veth sends TCP segments with the checksum still to compute, and a frame redirected by XDP loses that note: turn it off on the hosts with \`ethtool -K eth0 tx off\` (in left and right).`;
    return `Pings cross the switch, but the checker's short TCP exchange from left to right:${CHECK_PORT} did not get through both ways. Meanwhile ${numbers}.`;
  }
  const bypassed = PORTS.find((port) => rise(`${port}_redirected`) < count);
  if (bypassed) {
    const redirected = rise(`${bypassed}_redirected`);
    const rose = redirected > 0 ? `rose by only ${redirected}` : 'did not rise';
    return `Pings and TCP cross the switch, but ${bypassed}'s rx_queue_0_xdp_redirect ${rose} during ${count} pings. It counts what native XDP redirects, so something else carried them: a bridge, a tc rule, or XDP in generic mode.`;
  }
  return true;
}

export default defineLab({
  id: 'xdp-redirect',
  title: 'Redirect between two ports',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['left', 'switch', 'right'],
  counters: [
    { kind: 'xdp', namespace: 'switch', device: 'port-left' },
    { kind: 'xdp', namespace: 'switch', device: 'port-right' },
  ],
  files: true,
  setup: hostsAroundASwitch('gro on tx off'),
  exercises: [
    {
      id: 'cross-connect',
      title: 'Cross-connect the switch\'s ports with a devmap',
      task: sh`
        left (10.0.0.1) and right (10.0.0.2) share a subnet, but the cable from each ends at a port
        of the switch namespace, port-left and port-right, and the switch has no bridge, no address
        and no routing: left cannot reach right. Make XDP the switch: whatever enters one port
        leaves by the other.

        1. Finish \`/root/xdp_switch.c\` (one line) and compile it.

        2. Load it once, pinning the program and its devmap in ${PIN_DIR}: \`mkdir -p ${PIN_DIR}\`,
        then \`bpftool prog load xdp_switch.o ${PROG} type xdp pinmaps ${PIN_DIR}\`.

        3. Attach that one program natively to both ports: \`ip -n switch link set dev port-left xdp
        pinned ${PROG}\`, then port-right.

        4. Fill the devmap ${MAP}: for each port, key = its ifindex, value = the other port's
        (\`ip -n switch -j link show\`). bpftool takes keys and values as bytes, and x86 stores a
        __u32 lowest byte first, so ifindex 2 is \`2 0 0 0\`. Write the entries from inside the
        switch (\`ip netns exec switch bpftool map update pinned ${MAP} key … value …\`): the kernel
        turns the ifindex into a device in the network namespace of whoever writes the entry, and
        refuses one that does not exist there.

        bpf_redirect_map() takes its targets from a devmap: each entry holds the device itself,
        found once when the entry is written, so the forwarding table is data you change from
        userspace without reloading anything, and the kernel queues the frames for each target on
        each CPU and sends them in batches when the NAPI poll ends. Two veth details setup took
        care of on eth0 in left and right: GRO is on, because a veth accepts redirected frames only
        while its peer has NAPI to receive them; and checksum offload is off (\`tx off\`), because
        a TCP segment redirected by XDP loses the note that its checksum is still to be computed.

        The checker pings right from left a few times and makes a short TCP exchange, and expects
        rx_queue_0_xdp_redirect (\`ip netns exec switch ethtool -S port-left\`) to rise on both ports.`,
      checks: [
        { name: 'an XDP program is attached natively to port-left and port-right', run: portLinks, pass: checkAttached },
        { name: `the devmap ${MAP} sends port-left's frames to port-right and back`, run: devmap, pass: checkDevmap },
        { name: 'the switch has no other path: no bridge, no IPv4 address on its ports, no IP forwarding', run: switchState, pass: checkNoOtherPath },
        {
          name: 'pings and TCP from left reach right through XDP redirects on both ports',
          run: crossing,
          pass: checkCrossing,
          timeoutMs: 15_000,
          live: false,
        },
      ],
      initiallyPassing: {
        'the switch has no other path: no bridge, no IPv4 address on its ports, no IP forwarding':
          'the switch starts as two bare ports; the check guards against a bridge or routing doing the job instead of XDP',
      },
      hint: sh`
        The program is one line: \`return bpf_redirect_map(&ports, ctx->ingress_ifindex, XDP_DROP);\`.
        Then, in the sandbox's shell: compile with \`${COMPILE} -c xdp_switch.c -o xdp_switch.o\`,
        load and attach as in the task, and find the ifindexes with
        \`ip -n switch -j link show | jq '.[] | [.ifindex, .ifname]'\`. With port-left = 2 and
        port-right = 3: \`ip netns exec switch bpftool map update pinned ${MAP} key 2 0 0 0 value 3 0 0 0\`
        and the same the other way. \`bpftool map dump pinned ${MAP}\` shows the table;
        \`ip netns exec switch ethtool -S port-left\` shows rx_queue_0_xdp_redirect (sent on),
        rx_queue_0_xdp_drops (no entry for that port) and rx_queue_0_drops (the target refused).
        Made a mistake in the program? \`ip -n switch link set dev port-left xdp off\` (both ports),
        \`rm -r ${PIN_DIR}\`, and load again.`,
      solution: sh`
        cd /root
        sed -i 's|return XDP_PASS; // TODO.*|return bpf_redirect_map(\\&ports, ctx->ingress_ifindex, XDP_DROP);|' xdp_switch.c
        ${COMPILE} -c xdp_switch.c -o xdp_switch.o
        mkdir -p ${PIN_DIR}
        bpftool prog load xdp_switch.o ${PROG} type xdp pinmaps ${PIN_DIR}
        ip -n switch link set dev port-left xdp pinned ${PROG}
        ip -n switch link set dev port-right xdp pinned ${PROG}
        left=$(ip -n switch -j link show dev port-left | jq '.[0].ifindex')
        right=$(ip -n switch -j link show dev port-right | jq '.[0].ifindex')
        ip netns exec switch bpftool map update pinned ${MAP} key $left 0 0 0 value $right 0 0 0
        ip netns exec switch bpftool map update pinned ${MAP} key $right 0 0 0 value $left 0 0 0
        bpftool map dump pinned ${MAP} | grep -v 'no entry'
        # The first ARP exchange can take a moment on a busy machine: wait for one reply (5 s at most).
        ip netns exec left ping -c 1 -w 5 10.0.0.2 >/dev/null
        ip netns exec left ping -c 3 -i 0.2 10.0.0.2
        ip netns exec switch ethtool -S port-left | grep xdp_redirect`,
    },
  ],
});
