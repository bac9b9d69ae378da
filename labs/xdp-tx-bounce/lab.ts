import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { pingsAnswered } from '../namespaces.ts';

// red (veth-r 10.0.0.1/24) and blue (veth-b 10.0.0.2/24) joined by a veth pair, IPv6 off so that
// nothing but the checker's traffic crosses the cable while it counts.
//
// veth-r carries an XDP_PASS program from setup, because on a veth pair XDP_TX means "hand the frame
// to the peer's NAPI queue" (drivers/net/veth.c): veth_xdp_flush_bq() calls veth_xdp_xmit(), which
// gives up with -ENXIO when the peer has no NAPI instance (rq->napi), and the frames are dropped and
// counted as rx_queue_0_xdp_tx_errors; and veth_xdp_flush() schedules the peer's NAPI poll only when
// the peer has an XDP program (rcv_rq->xdp_prog). So NAPI alone is not enough either. Measured on
// 6.18: no program on veth-r, 3 pings → xdp_tx 0, xdp_tx_errors 3, no reply; `ethtool -K veth-r gro
// on` instead (NAPI, no program) → xdp_tx 3 but no reply ever reaches red; XDP_PASS on veth-r → 3 of 3.

// ip -j prints the attach mode as XDP_ATTACHED_* from include/uapi/linux/if_link.h.
const XDP_ATTACHED_DRV = 1;
const XDP_ATTACHED_SKB = 2;

interface Link {
  xdp?: { mode?: number; prog?: { id: number }; attached?: { mode: number }[] };
}

const xdpModes = (link: Link) => link.xdp?.attached?.map((a) => a.mode) ?? (link.xdp?.mode ? [link.xdp.mode] : []);

function checkAttached(out: CommandOutput) {
  if (out.exitCode !== 0) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  const [link] = json<Link[]>(out);
  const modes = xdpModes(link);
  if (modes.includes(XDP_ATTACHED_DRV)) return true;
  if (modes.includes(XDP_ATTACHED_SKB)) {
    return 'veth-b\'s program is attached in generic mode (`xdpgeneric`), which runs only once the driver has handed the packet to the stack as an sk_buff: attach it natively with `ip -force link set dev veth-b xdp obj …` (in blue).';
  }
  return 'veth-b in blue has no XDP program attached: `ip -n blue link show veth-b` shows no "prog/xdp".';
}

// The checker's pings, between two readings of blue's own counters: IcmpInEchos (per namespace:
// icmp_echo() counts each echo request blue's stack receives) and veth-b's per-queue XDP counters.
// Also whether veth-r in red still has its program. Prints "name value" lines.
const bounce = sh`
  count=$((3 + RANDOM % 4))
  echo "count $count"
  counters() {
    echo "$1_echos $(ip netns exec blue nstat -sazj IcmpInEchos 2>/dev/null | jq '.kernel.IcmpInEchos // empty')"
    ip netns exec blue ethtool -S veth-b 2>/dev/null | awk -v p=$1 '
      $1 ~ /^rx_queue_[0-9]+_xdp_tx:$/ { tx += $2 }
      $1 ~ /^rx_queue_[0-9]+_xdp_tx_errors:$/ { errors += $2 }
      END { print p "_tx", tx + 0; print p "_tx_errors", errors + 0 }'
  }
  counters before
  echo "received ${pingsAnswered('red', '10.0.0.2', '-c $count -i 0.2')}"
  counters after
  echo "peer_xdp $(ip -n red -j link show dev veth-r 2>/dev/null | jq '.[0].xdp.prog.id // 0')"`;

function checkBounce(out: CommandOutput) {
  const values = new Map(out.stdout.trim().split('\n').map((line) => {
    const [name, value] = line.split(' ');
    return [name, value === undefined || value === '' ? NaN : Number(value)] as const;
  }));
  const get = (name: string) => values.get(name) ?? NaN;
  const count = get('count');
  const received = get('received');
  if ([get('before_echos'), get('after_echos')].some(Number.isNaN)) return 'Namespace blue is gone: press Reset to get the lab back.';
  if (Number.isNaN(received)) return 'The checker could not ping from red: is namespace red still there with veth-r up?';
  const answeredByStack = get('after_echos') - get('before_echos');
  const bounced = get('after_tx') - get('before_tx');
  const lost = get('after_tx_errors') - get('before_tx_errors');
  const sent = `The checker sent ${count} pings from red`;
  if (answeredByStack > 0) {
    return `${sent}: blue's stack received ${answeredByStack} of them (IcmpInEchos rose), so they went up the stack instead of being bounced in XDP. Does your program return XDP_TX for echo requests, and is it the one attached to veth-b?`;
  }
  if (lost > 0 && get('peer_xdp') === 0) {
    return `${sent}: your program bounced them, but ${lost} were lost (rx_queue_0_xdp_tx_errors) because veth-r in red has no XDP program any more: put one back with \`ip netns exec red ip link set dev veth-r xdp obj /root/xdp_pass.o sec xdp\`.`;
  }
  if (received < count) {
    return `${sent} and ${received} came back. veth-b sent ${bounced} frames back with XDP_TX (${lost} failed): check the swapped addresses (both MAC and IP) and the ICMP checksum (red counts bad ones in \`nstat -az IcmpInCsumErrors\`).`;
  }
  if (bounced < count) {
    const rose = bounced > 0 ? `rose by only ${bounced}` : 'did not rise';
    return `${sent} and all came back, but veth-b's rx_queue_0_xdp_tx ${rose}: the replies must be sent back by the XDP program on veth-b, with XDP_TX, attached natively.`;
  }
  return true;
}

export default defineLab({
  id: 'xdp-tx-bounce',
  title: 'Bounce with XDP_TX',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'xdp', namespace: 'blue', device: 'veth-b' },
    { kind: 'snmp', namespace: 'blue', names: ['IcmpInEchos'] },
  ],
  files: true,
  setup: sh`
    for ns in red blue; do
      ip netns add $ns
      ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip -n $ns link set lo up
    done
    ip link add veth-r netns red type veth peer name veth-b netns blue
    ip -n red addr add 10.0.0.1/24 dev veth-r
    ip -n blue addr add 10.0.0.2/24 dev veth-b
    ip -n red link set veth-r up
    ip -n blue link set veth-b up
    ${COMPILE} -c /root/xdp_pass.c -o /root/xdp_pass.o
    ip netns exec red ip link set dev veth-r xdp obj /root/xdp_pass.o sec xdp`,
  exercises: [
    {
      id: 'echo-responder',
      title: 'Answer pings from XDP',
      task: sh`
        Finish \`/root/xdp_bounce.c\`: for an IPv4 ICMP echo request, swap the Ethernet addresses and
        the IP addresses, make it an echo reply, fix the ICMP checksum, and return XDP_TX; pass
        everything else. Compile it, attach it natively (\`xdp\`, not \`xdpgeneric\`) to veth-b in
        blue, and ping blue from red.

        XDP_TX sends the frame back out of the device it arrived on, from the driver's receive loop,
        before the driver hands anything to the stack (on a real NIC, before an sk_buff is even
        allocated): the request never climbs blue's stack, so no IP or ICMP code runs and blue's
        \`nstat -az IcmpInEchos\` stays still, while \`ethtool -S veth-b\` counts
        rx_queue_0_xdp_tx. On a veth pair an XDP_TX frame goes straight into the peer's NAPI queue,
        which the kernel serves for such frames only while the peer has an XDP program, so setup
        attached \`/root/xdp_pass.o\` to veth-r: without it the frames are dropped and counted as
        xdp_tx_errors.

        The checker pings blue from red a few times (a different count each time) and expects every
        ping answered, blue's IcmpInEchos unchanged, and veth-b's xdp_tx risen by at least as many.`,
      checks: [
        { name: 'an XDP program is attached natively to veth-b in blue', run: 'ip -n blue -j -d link show dev veth-b', pass: checkAttached },
        {
          name: 'red\'s pings are answered by XDP_TX on veth-b, never by blue\'s stack',
          run: bounce,
          pass: checkBounce,
          timeoutMs: 10_000,
          live: false,
        },
      ],
      hint: sh`
        Swap through a temporary: \`__u8 mac[ETH_ALEN]\` and \`__builtin_memcpy\` for the MACs, a
        \`__be32\` for the IPs (the IP checksum is a sum, and a sum does not change when two of its
        words trade places). Only the first 16-bit word of the ICMP header changes (type, then code):
        read it as \`*(__u16 *)icmp\` before and after setting the type, and give both to
        \`csum_replace16()\`. Compile with \`${COMPILE} -c xdp_bounce.c -o xdp_bounce.o\`, attach
        with \`ip netns exec blue ip -force link set dev veth-b xdp obj xdp_bounce.o sec xdp\`
        (\`-force\` replaces a program already there), then compare \`ip netns exec blue nstat -az
        IcmpInEchos\` and \`ip netns exec blue ethtool -S veth-b\` before and after a ping.`,
      solution: sh`
        cd /root
        sed -i \\
          -e 's|// TODO: answer only echo requests.*|if (icmp->type != ICMP_ECHO)\\n\\t\\treturn XDP_PASS;|' \\
          -e 's|// TODO: swap eth->h_dest.*|__u8 mac[ETH_ALEN];\\n\\t__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);\\n\\t__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);\\n\\t__builtin_memcpy(eth->h_source, mac, ETH_ALEN);|' \\
          -e 's|// TODO: swap ip->saddr.*|__be32 addr = ip->saddr;\\n\\tip->saddr = ip->daddr;\\n\\tip->daddr = addr;|' \\
          -e 's|// TODO: make it an echo reply.*|__u16 old = *(__u16 *)icmp;\\n\\ticmp->type = ICMP_ECHOREPLY;\\n\\ticmp->checksum = csum_replace16(icmp->checksum, old, *(__u16 *)icmp);|' \\
          -e 's|return XDP_PASS; // TODO: return instead.*|return XDP_TX;|' \\
          xdp_bounce.c
        ${COMPILE} -c xdp_bounce.c -o xdp_bounce.o
        ip netns exec blue ip -force link set dev veth-b xdp obj xdp_bounce.o sec xdp
        ip netns exec red ping -c 3 -i 0.2 10.0.0.2
        ip netns exec blue nstat -az IcmpInEchos
        ip netns exec blue ethtool -S veth-b | grep xdp_tx`,
    },
  ],
});
