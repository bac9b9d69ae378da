import { COMPILE, counterOf } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import {
  cabledSites, gatewayFiles, GW_CLOUD_WAN, GW_ONPREM_WAN, INTERNET, pskTunnel, reachesThroughTunnel, routeTheSites, sections, SITE_HOSTS, steps, swanctl,
} from '../vpc.ts';
import { pingsAnswered } from '../namespaces.ts';
import { xdpAttachments, XDP_ATTACHED_DRV, XDP_ATTACHED_SKB, type XdpLink } from '../xdp-attachment.ts';

// /run/bpf rather than /sys/fs/bpf: `ip netns exec` mounts a fresh /sys and hides the bpffs there.
const PIN_DIR = '/run/bpf/guard';
const PROG = `${PIN_DIR}/prog`;
const STATS = `${PIN_DIR}/guard_stats`;
// The indices of guard_stats, as xdp_guard.c numbers them, in the form bpftool takes a key.
const LET_IN_KEY = '0 0 0 0';
const DROPPED_KEY = '1 0 0 0';
const load = `\`bpftool prog load xdp_guard.o ${PROG} type xdp pinmaps ${PIN_DIR}\``;

const lookup = (key: string) => `bpftool -j map lookup pinned ${STATS} key ${key} 2>/dev/null | jq -c '.value' || echo null`;

const attached = sh`
  prog=$(bpftool -j prog show pinned ${PROG} 2>/dev/null | jq '.id') || prog=null
  printf '{"prog":%s,"wan":%s}' "\${prog:-null}" "$(ip -n gw-onprem -j -d link show dev wan 2>/dev/null || echo null)"`;

function checkAttached(out: CommandOutput) {
  const state = json<{ prog: number | null; wan: XdpLink[] | null }>(out);
  const wan = state.wan?.[0];
  if (!wan) return 'gw-onprem\'s wan is gone: press Reset to get the lab back.';
  if (state.prog === null) return `Nothing is pinned at ${PROG}: compile xdp_guard.c and load it there with ${load}.`;
  const attachments = xdpAttachments(wan);
  const native = attachments.find((attachment) => attachment.mode === XDP_ATTACHED_DRV);
  if (native) return native.prog?.id === state.prog || `gw-onprem's wan runs XDP program ${native.prog?.id}, not the one pinned at ${PROG} (${state.prog}): attach the pinned one, \`ip -n gw-onprem link set dev wan xdp pinned ${PROG}\` (after \`xdp off\`).`;
  if (attachments.some((attachment) => attachment.mode === XDP_ATTACHED_SKB)) {
    return 'The guard is attached in generic mode (`xdpgeneric`), which runs only after the kernel has built an sk_buff for the packet: the cost it should spare. Attach it natively (`xdp`, or `xdpdrv` to insist), after `xdpgeneric off`.';
  }
  return `gw-onprem's wan has no XDP program: attach the pinned one with \`ip -n gw-onprem link set dev wan xdp pinned ${PROG}\`.`;
}

// The checker probes gw-onprem from the internet: pings, a TCP connection to port 22 and an
// IKE-looking datagram to port 500, each bounded in time, with the guard's drop counter read
// before and after.
const probes = sh`
  echo "=== before"; ${lookup(DROPPED_KEY)}
  echo "=== replies"; echo ${pingsAnswered('internet', GW_ONPREM_WAN, '-c 3 -i 0.2', 3)}
  echo "=== tcp"; ip netns exec internet timeout 3 socat -u /dev/null TCP:${GW_ONPREM_WAN}:22,connect-timeout=1 2>&1 | grep -o -m 1 -E 'refused|timed out|Connection timed out' || echo none
  echo probe | ip netns exec internet timeout 2 socat -u - UDP:${GW_ONPREM_WAN}:500,sourceport=500 2>/dev/null
  sleep 0.2
  echo "=== after"; ${lookup(DROPPED_KEY)}`;

function checkProbesDropped(out: CommandOutput) {
  const found = sections(out);
  if (Number(found.replies) > 0) return `${found.replies} of the internet's 3 pings to ${GW_ONPREM_WAN} were answered: the guard lets ICMP from strangers in.`;
  if (found.tcp === 'refused') return `The internet's TCP connection to ${GW_ONPREM_WAN}:22 was refused, which means it reached gw-onprem's TCP stack: the guard should have dropped the SYN.`;
  const before = found.before === 'null' ? null : json<string[] | null>({ stdout: found.before, stderr: '', exitCode: 0 });
  const after = found.after === 'null' ? null : json<string[] | null>({ stdout: found.after, stderr: '', exitCode: 0 });
  if (!before || !after) return `The checker cannot read the guard's counters at ${STATS}: load the program with ${load} so its map is pinned there.`;
  const dropped = counterOf(after) - counterOf(before);
  // 3 pings, the SYN and its retransmission within the second, and the datagram to port 500.
  return dropped >= 5 || `The internet's probes got no answer, but the guard counted only ${dropped} drops (at least 5 were sent): something else (nftables, a route?) stopped them. The guard itself must drop and count them.`;
}

// The checker restarts the tunnel from gw-cloud: IKE_SA_INIT goes to gw-onprem's UDP port 500,
// then IKE_AUTH and ESP to 4500. A guard that lets only 4500 in keeps a running tunnel but not a new one.
const restartsThroughTheGuard = {
  name: 'the tunnel comes back up after a restart (IKE on UDP 500 and 4500 passes the guard)',
  run: sh`
    echo "=== before"; ${lookup(LET_IN_KEY)}
    ${swanctl('cloud', '--terminate --ike onprem --timeout 3')} >/dev/null 2>&1
    echo "=== initiate"; ${swanctl('cloud', '--initiate --child sites --timeout 8')} 2>&1 | tail -n 2
    echo "=== after"; ${lookup(LET_IN_KEY)}`,
  pass: (out: CommandOutput) => {
    const found = sections(out);
    if (!/initiate completed successfully/.test(found.initiate ?? '')) {
      return `The checker restarted the tunnel from gw-cloud and it did not come back ("${(found.initiate ?? '').split('\n').at(-1)}"): the guard drops part of IKE. gw-cloud starts with UDP port 500, then moves to 4500.`;
    }
    return true;
  },
  timeoutMs: 20_000,
  live: false,
};

// The reference solution's decision, put where xdp_guard.c's TODO returns XDP_PASS.
const decision = sh`
  	if (ip->saddr != PEER_GATEWAY || ip->protocol != IPPROTO_UDP)
  		return count(DROPPED, XDP_DROP);
  	struct udphdr *udp = (void *)ip + ip->ihl * 4;
  	if ((void *)(udp + 1) > data_end)
  		return count(DROPPED, XDP_DROP);
  	if (udp->dest != bpf_htons(IKE_PORT) && udp->dest != bpf_htons(NAT_T_PORT))
  		return count(DROPPED, XDP_DROP);
  	return count(LET_IN, XDP_PASS);`;

export default defineLab({
  id: 'gateway-guard',
  title: 'Guard the gateway with XDP',
  requires: ['netns', 'veth', 'bridge', 'tun', 'xdp', 'bpf'],
  hosts: SITE_HOSTS,
  counters: [{ kind: 'xdp', namespace: 'gw-onprem', device: 'wan' }],
  files: true,
  setup: steps(cabledSites, routeTheSites, gatewayFiles(), pskTunnel),
  exercises: [
    {
      id: 'xdp-guard',
      title: 'Let only the peer\'s IKE and ESP in',
      task: sh`
        gw-onprem faces the internet, and the internet (${INTERNET} here) knocks: pings, port scans,
        junk sent to the IKE port. The only traffic the gateway needs from outside is the peer
        gateway's IKE (UDP 500) and its ESP in UDP (4500), from ${GW_CLOUD_WAN}. Drop everything
        else at the earliest point the kernel offers: XDP, in the driver, before an sk_buff exists.

        Finish \`/root/xdp_guard.c\` (the TODO decides pass or drop; the parsing and the counters
        around it are done), compile it, load and pin it with its map, and attach it natively to
        gw-onprem's \`wan\`:

        \`${COMPILE} -c xdp_guard.c -o xdp_guard.o\`
        \`mkdir -p ${PIN_DIR}\` and ${load}
        \`ip -n gw-onprem link set dev wan xdp pinned ${PROG}\`

        \`bpftool map dump pinned ${STATS}\` shows the counters. The checker probes gw-onprem from
        \`internet\` (ping, TCP to port 22, a datagram to port 500: all must be dropped and counted),
        sends traffic through the tunnel, and restarts the tunnel to be sure a fresh IKE exchange
        still gets through.`,
      checks: [
        { name: 'the guard is pinned and attached natively to gw-onprem\'s wan', run: attached, pass: checkAttached },
        { name: 'the internet\'s probes are dropped, and the guard counts them', run: probes, pass: checkProbesDropped, timeoutMs: 15_000, live: false },
        reachesThroughTunnel,
        restartsThroughTheGuard,
      ],
      initiallyPassing: {
        [reachesThroughTunnel.name]: 'the tunnel is up at the start; the check guards against a guard that cuts it',
        [restartsThroughTheGuard.name]: 'with no guard, IKE passes; the check catches a guard that lets a running tunnel live but not a new one',
      },
      hint: sh`
        After the TODO: drop unless \`ip->saddr == PEER_GATEWAY && ip->protocol == IPPROTO_UDP\`; then
        \`struct udphdr *udp = (void *)ip + ip->ihl * 4;\`, check \`(void *)(udp + 1) > data_end\`, and
        pass only when \`udp->dest\` is \`bpf_htons(IKE_PORT)\` or \`bpf_htons(NAT_T_PORT)\`. To load a new
        version: \`ip -n gw-onprem link set dev wan xdp off\`, \`rm -r ${PIN_DIR}\`, and load again.`,
      solution: steps(
        `cat > /tmp/decision.c <<'EOF'\n${decision}\nEOF`,
        sh`
          cd /root
          sed -i -e '/^\\treturn XDP_PASS;$/{r /tmp/decision.c' -e 'd}' xdp_guard.c
          ${COMPILE} -c xdp_guard.c -o xdp_guard.o
          mkdir -p ${PIN_DIR}
          bpftool prog load xdp_guard.o ${PROG} type xdp pinmaps ${PIN_DIR}
          ip -n gw-onprem link set dev wan xdp pinned ${PROG}
          bpftool map dump pinned ${STATS}`,
      ),
    },
  ],
});
