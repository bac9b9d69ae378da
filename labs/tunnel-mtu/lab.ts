import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { cabledSites, gatewayFiles, pskTunnel, reachesThroughTunnel, routeTheSites, sections, SITE_HOSTS, SRV_ONPREM, steps } from '../vpc.ts';

const PORT = 8080;
const PAYLOAD_BYTES = 256 * 1024;
const TRANSFER_SECONDS = 5;

// The on-prem network team's firewall on gw-onprem: it drops every ICMP "destination unreachable"
// the gateway would send, "fragmentation needed" included. That is the message path MTU discovery
// lives on (RFC 1191), so srv-onprem never learns that the tunnel carries less than 1500 bytes.
const SECURITY_GROUP = sh`
  table inet security-group {
    chain output {
      type filter hook output priority filter; policy accept;
      icmp type destination-unreachable counter drop
    }
  }`;

// vm-cloud downloads the payload from srv-onprem, bounded in time. srv-onprem forgets what it learnt
// of the path first (a route exception from an earlier ICMP would hide the problem or its cure).
const download = sh`
  ip -n srv-onprem route flush cache 2>/dev/null
  echo "=== bytes"; ip netns exec vm-cloud timeout ${TRANSFER_SECONDS} socat -u TCP:${SRV_ONPREM}:${PORT},connect-timeout=2 - 2>/dev/null | wc -c`;

interface Rule { rule?: { chain: string; expr: Record<string, unknown>[] } }

export default defineLab({
  id: 'tunnel-mtu',
  title: 'A transfer that stalls in the tunnel',
  requires: ['netns', 'veth', 'bridge', 'tun', 'nftables'],
  hosts: SITE_HOSTS,
  setup: steps(
    cabledSites,
    routeTheSites,
    gatewayFiles(),
    pskTunnel,
    `ip netns exec gw-onprem nft -f - <<'EOF'\n${SECURITY_GROUP}\nEOF`,
    sh`
      head -c ${PAYLOAD_BYTES} /dev/urandom > /root/payload
      ip netns exec srv-onprem setsid socat TCP-LISTEN:${PORT},fork,reuseaddr SYSTEM:'cat /root/payload' </dev/null >/dev/null 2>&1 &
      until ip netns exec srv-onprem ss -Htln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done`,
  ),
  exercises: [
    {
      id: 'mss-clamp',
      title: 'Make a large download cross the tunnel',
      task: sh`
        Pings cross the tunnel, yet a download hangs:
        \`ip netns exec vm-cloud socat -u TCP:${SRV_ONPREM}:${PORT} - | wc -c\` (srv-onprem serves
        ${PAYLOAD_BYTES / 1024} KiB there) prints nothing and waits. Small packets pass; full-sized ones
        do not.

        Find out why. \`ip -n gw-onprem link show ipsec0\` shows the tunnel device's MTU: every packet
        the tunnel carries gains an outer IP header, a UDP header and ESP's header, padding and
        integrity tag, so it carries less than the 1500 bytes of the LANs. srv-onprem's TCP sends
        full 1500-byte segments; gw-onprem cannot fit them into the tunnel and tells srv-onprem so
        with an ICMP "fragmentation needed" message, which the on-prem team's firewall
        (\`ip netns exec gw-onprem nft list ruleset\`) drops. The segments vanish, TCP retransmits
        them, and they vanish again.

        The firewall is not yours to change. Fix the path another way, as VPN gateways do: clamp the
        MSS that TCP connections announce in their SYNs as they cross a gateway towards the tunnel
        (nftables: \`tcp option maxseg size set rt mtu\` in a forward chain), or lower the MTU on the
        on-prem side so that no segment is ever too big. The checker downloads the payload from
        vm-cloud and needs every byte within ${TRANSFER_SECONDS} seconds.`,
      checks: [
        {
          name: 'the on-prem firewall still drops ICMP destination-unreachable',
          run: 'ip netns exec gw-onprem nft -j list chain inet security-group output',
          pass: (out: CommandOutput) => {
            if (out.exitCode !== 0) return 'The on-prem team\'s table `inet security-group` (chain output) is gone from gw-onprem: put it back (press Reset) and fix the path without it.';
            const rules = json<{ nftables: Rule[] }>(out).nftables.filter((item) => item.rule);
            const drops = rules.some((item) => JSON.stringify(item.rule?.expr).includes('destination-unreachable') && JSON.stringify(item.rule?.expr).includes('"drop"'));
            return drops || 'The security group no longer drops ICMP destination-unreachable: it is the on-prem team\'s rule, not yours to change. Restore it and fix the MTU problem on your side.';
          },
        },
        reachesThroughTunnel,
        {
          name: `vm-cloud downloads all ${PAYLOAD_BYTES / 1024} KiB from srv-onprem through the tunnel within ${TRANSFER_SECONDS} s`,
          run: download,
          pass: (out: CommandOutput) => {
            const bytes = Number(sections(out).bytes);
            if (bytes === PAYLOAD_BYTES) return true;
            if (bytes === 0) return `The download got no bytes at all in ${TRANSFER_SECONDS} s: the first full-sized segments never cross the tunnel. Clamp the MSS on the gateways (or lower the MTU) so that srv-onprem never sends a segment the tunnel cannot carry.`;
            return `The download got ${bytes} of ${PAYLOAD_BYTES} bytes in ${TRANSFER_SECONDS} s: some segments still do not fit the tunnel.`;
          },
          timeoutMs: (TRANSFER_SECONDS + 5) * 1000,
          live: false,
        },
      ],
      initiallyPassing: {
        'the on-prem firewall still drops ICMP destination-unreachable': 'the firewall is part of the problem the lab sets; the check keeps it in place',
        [reachesThroughTunnel.name]: 'small packets cross the tunnel from the start: only full-sized ones are lost',
      },
      hint: sh`
        On gw-cloud, where vm-cloud's SYN leaves through ipsec0:
        \`ip netns exec gw-cloud nft add table inet clamp\`,
        \`ip netns exec gw-cloud nft add chain inet clamp forward '{ type filter hook forward priority mangle; }'\`,
        \`ip netns exec gw-cloud nft add rule inet clamp forward oifname ipsec0 tcp flags syn tcp option maxseg size set rt mtu\`.
        srv-onprem then sends segments that fit ipsec0's route MTU. Do the same on gw-onprem for connections opened the other way.`,
      solution: sh`
        for gw in gw-cloud gw-onprem; do
          ip netns exec $gw nft add table inet clamp
          ip netns exec $gw nft add chain inet clamp forward '{ type filter hook forward priority mangle; }'
          ip netns exec $gw nft add rule inet clamp forward oifname ipsec0 tcp flags syn tcp option maxseg size set rt mtu
        done
        ip netns exec vm-cloud timeout 5 socat -u TCP:${SRV_ONPREM}:${PORT} - | wc -c`,
    },
  ],
});
