import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

const FROM_PORT = 5000;
const TO_PORT = 5001;
const OTHER_PORT = 6000;
// setsockopt(SOL_SOCKET, SO_NO_CHECK, 1) as socat spells it: SOL_SOCKET is 1 and SO_NO_CHECK 11 on
// x86 (include/uapi/asm-generic/socket.h). The socket then sends IPv4 UDP with checksum field 0,
// which means "no checksum" (RFC 768), and the receiver accepts it unchecked (udp4_csum_init()).
const NO_CHECKSUM = 'setsockopt-int=1:11:1';

// Red's veth-r computes UDP checksums in software (setup turns its transmit checksum offload off).
// With the offload on, a datagram crosses the veth pair as CHECKSUM_PARTIAL, and blue's UDP trusts it
// without looking (skb_csum_unnecessary() in include/linux/skbuff.h): a rewrite that broke the
// checksum would go unnoticed. Measured here: with tx on, a program that rewrote the port and left
// the checksum alone still delivered; with tx off, blue dropped the datagram (UdpInCsumErrors +1).
const OFFLOAD_OFF = `ip netns exec red ethtool -k veth-r | grep -q '^tx-checksumming: off'`;
const OFFLOAD_MESSAGE =
  'Red\'s veth-r has its transmit checksum offload on again (`ip netns exec red ethtool -k veth-r`): its datagrams then cross the cable with their checksum left for "hardware" to finish, blue trusts them without verifying, and a wrong checksum could not be caught. Turn it off: `ip netns exec red ethtool -K veth-r tx off`.';

// Blue's UDP error counters, per namespace (/proc/net/snmp): bad checksums, and datagrams for a
// port where no socket listens.
const udpCounters = `ip netns exec blue awk '/^Udp:/ { if (!seen++) { for (i = 2; i <= NF; i++) c[$i] = i } else print $c["InCsumErrors"], $c["NoPorts"] }' /proc/net/snmp`;

// The checker's own exchange: one-shot receivers bound to 10.0.0.2 on the given ports in blue
// (more specific than the setup's wildcard receivers, so they win the lookup, and with
// SO_REUSEADDR so they can bind beside them), one datagram from red carrying a random marker,
// then what each receiver got and how blue's UDP counters moved.
function exchange(sendTo: number, ports: number[], socatOptions = '') {
  return sh`
    ip -n blue link show dev veth-b >/dev/null 2>&1 && ip -n red link show dev veth-r >/dev/null 2>&1 || { echo error=gone; exit 0; }
    ${OFFLOAD_OFF} || { echo error=offload; exit 0; }
    dir=$(mktemp -d)
    marker=wirelab-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \\n')
    pids=
    for port in ${ports.join(' ')}; do
      ip netns exec blue timeout 4 socat -u UDP-RECV:$port,bind=10.0.0.2,reuseaddr OPEN:$dir/$port,creat 2>$dir/$port.err &
      pids="$pids $!"
    done
    for i in $(seq 40); do
      [ "$(ip netns exec blue ss -Huln '${ports.map((port) => `src 10.0.0.2:${port}`).join(' or ')}' | wc -l)" -ge ${ports.length} ] && break
      sleep 0.025
    done
    for port in ${ports.join(' ')}; do
      ip netns exec blue ss -Huln "src 10.0.0.2:$port" | grep -q . || { echo error=busy:$port; kill $pids; rm -rf $dir; exit 0; }
    done
    before=$(${udpCounters})
    printf %s "$marker" | ip netns exec red socat -u - UDP-SENDTO:10.0.0.2:${sendTo}${socatOptions ? `,${socatOptions}` : ''}
    for i in $(seq 40); do
      for port in ${ports.join(' ')}; do [ -s $dir/$port ] && break 2; done
      sleep 0.025
    done
    sleep 0.1
    after=$(${udpCounters})
    kill $pids 2>/dev/null; wait 2>/dev/null
    echo marker=$marker
    for port in ${ports.join(' ')}; do echo "at$port=$(tr -d '\\n' < $dir/$port)"; done
    echo "counters=$before $after"
    rm -rf $dir`;
}

interface Exchange {
  marker: string;
  at: Record<number, string>;
  csumErrors: number;
  noPorts: number;
}

// The exchange's report, or a sentence when the checker could not run it.
function readExchange(out: CommandOutput, ports: number[]): Exchange | string {
  const field = (name: string) => out.stdout.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
  const error = field('error');
  if (error === 'gone') return 'Red, blue or their veth pair is gone: press Reset to get the lab back.';
  if (error === 'offload') return OFFLOAD_MESSAGE;
  if (error?.startsWith('busy:')) {
    return `The checker could not listen on UDP port ${error.slice(5)} in blue: another socket holds it without SO_REUSEADDR (\`ip netns exec blue ss -ulnp\`). Stop it and check again.`;
  }
  const marker = field('marker');
  const counters = field('counters')?.trim().split(/\s+/).map(Number);
  if (!marker || !counters || counters.length !== 4 || counters.some(Number.isNaN)) {
    return `The checker's exchange did not run to the end (it said: "${(out.stderr || out.stdout).trim().slice(0, 160)}").`;
  }
  return {
    marker,
    at: Object.fromEntries(ports.map((port) => [port, field(`at${port}`) ?? ''])),
    csumErrors: counters[2] - counters[0],
    noPorts: counters[3] - counters[1],
  };
}

function judgeRewrite(out: CommandOutput, withoutChecksum: boolean): true | string {
  const result = readExchange(out, [FROM_PORT, TO_PORT]);
  if (typeof result === 'string') return result;
  const { marker, at, csumErrors, noPorts } = result;
  const what = withoutChecksum ? 'A datagram sent without a checksum (field 0)' : 'The checker\'s datagram';
  const reachedOld = at[FROM_PORT].includes(marker);
  const reachedNew = at[TO_PORT].includes(marker);
  if (reachedNew && !reachedOld) return true;
  if (reachedNew && reachedOld) return `${what} arrived at both ports ${FROM_PORT} and ${TO_PORT}: the program must rewrite the datagram, not copy it.`;
  if (reachedOld) {
    return `${what} to 10.0.0.2:${FROM_PORT} arrived at port ${FROM_PORT}: nothing rewrote it. Is your program attached to veth-b's ingress in blue (\`ip netns exec blue tc filter show dev veth-b ingress\`), and does it compare udp->dest with bpf_htons(${FROM_PORT})?`;
  }
  if (csumErrors > 0) {
    return withoutChecksum
      ? `${what} was rewritten, then thrown away by blue for a bad checksum (UdpInCsumErrors rose by ${csumErrors}). In IPv4 a UDP checksum of 0 means "none", and your update turned that 0 into a number: BPF_F_MARK_MANGLED_0 tells bpf_l4_csum_replace() to leave a zero checksum alone.`
      : `${what} left your program but blue threw it away for a bad UDP checksum (UdpInCsumErrors rose by ${csumErrors}): after changing the port, update the checksum with bpf_l4_csum_replace() (the offset of udp->check, the old and new port in network byte order, and the field size in the flags).`;
  }
  if (noPorts > 0) {
    return `${what} reached blue's UDP for a port where nothing listens (UdpNoPorts rose by ${noPorts}): the new port must be ${TO_PORT} in network byte order, bpf_htons(${TO_PORT}), written over udp->dest (2 bytes, at offset 2 of the UDP header).`;
  }
  if (at[TO_PORT] || at[FROM_PORT]) {
    return `Something arrived at port ${at[TO_PORT] ? TO_PORT : FROM_PORT}, but not the checker's datagram as sent ("${(at[TO_PORT] || at[FROM_PORT]).slice(0, 40)}" instead of "${marker}"): only the destination port may change.`;
  }
  return `${what} to 10.0.0.2:${FROM_PORT} arrived nowhere, and blue counted no checksum error for it: does your program return TC_ACT_OK for it (TC_ACT_SHOT drops it)? \`ip netns exec blue tc -s filter show dev veth-b ingress\` shows the filter.`;
}

interface Filter {
  kind: string;
  options?: { bpf_name?: string; 'direct-action'?: boolean; prog?: { id: number } };
}

// veth-b's qdiscs and its ingress filters in blue, as one JSON line; null when veth-b is gone.
const filterState = sh`
  printf '{"qdiscs":%s,"filters":%s}\n' \
    "$(ip -n blue -j link show dev veth-b >/dev/null 2>&1 && ip netns exec blue tc -j qdisc show dev veth-b 2>/dev/null || echo null)" \
    "$(ip netns exec blue tc -j filter show dev veth-b ingress 2>/dev/null || echo null)"`;

function checkFilter(out: CommandOutput): true | string {
  const state = json<{ qdiscs: { kind: string }[] | null; filters: Filter[] | null }>(out);
  if (!state.qdiscs) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  if (!state.qdiscs.some((qdisc) => qdisc.kind === 'clsact' || qdisc.kind === 'ingress')) {
    return 'veth-b in blue has no clsact qdisc yet, so there is no ingress hook to attach a filter to: `ip netns exec blue tc qdisc add dev veth-b clsact`.';
  }
  const filters = (state.filters ?? []).filter((filter) => filter.options);
  if (filters.length === 0) return 'veth-b in blue has a clsact qdisc but no ingress filter yet: `ip netns exec blue tc filter add dev veth-b ingress bpf direct-action obj tc_rewrite.o sec tc`.';
  const bpf = filters.filter((filter) => filter.kind === 'bpf');
  if (bpf.length === 0) return `veth-b's ingress in blue has filters (${filters.map((filter) => filter.kind).join(', ')}) but none of kind bpf: attach yours with \`tc filter add dev veth-b ingress bpf direct-action obj tc_rewrite.o sec tc\`.`;
  if (!bpf.some((filter) => filter.options?.['direct-action'])) {
    return `The bpf filter ${bpf[0].options?.bpf_name ?? ''} on veth-b's ingress is not in direct-action mode: without it tc reads the return value as a class id and looks for actions to run. Attach it again with \`direct-action\` (or \`da\`) so that TC_ACT_OK and TC_ACT_SHOT are the verdict.`;
  }
  return true;
}

// The reference solution, written over the starter when the solution runs (and shown to a learner
// who asks for it): kept here rather than in files/, which the sandbox copies into /root.
const REFERENCE = `// Rewrite at tc: UDP datagrams that arrive for port 5000 leave this program addressed to 5001,
// with a UDP checksum that still adds up. Everything else goes on untouched.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define FROM_PORT 5000
#define TO_PORT 5001

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (ip->protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	if (ip->frag_off & bpf_htons(0x1fff))
		return TC_ACT_OK;

	__u32 l4 = ETH_HLEN + ip->ihl * 4;
	struct udphdr *udp = data + l4;
	if ((void *)(udp + 1) > data_end)
		return TC_ACT_OK;

	if (udp->dest != bpf_htons(FROM_PORT))
		return TC_ACT_OK;

	__be16 old_port = udp->dest;
	__be16 new_port = bpf_htons(TO_PORT);

	// The checksum covers a pseudo-header (addresses, protocol, length), the UDP header and the
	// payload. A port is in the UDP header, not the pseudo-header: no BPF_F_PSEUDO_HDR. IPv4 UDP
	// may carry checksum 0 ("none"): BPF_F_MARK_MANGLED_0 keeps a 0 at 0, and turns a result of 0
	// into 0xffff. The low bits give the size of the field that changed.
	bpf_l4_csum_replace(skb, l4 + offsetof(struct udphdr, check), old_port, new_port,
			    BPF_F_MARK_MANGLED_0 | sizeof(new_port));
	// No BPF_F_RECOMPUTE_CSUM here: it only keeps skb->csum (CHECKSUM_COMPLETE) in step, it never
	// touches the checksum field in the UDP header.
	bpf_skb_store_bytes(skb, l4 + offsetof(struct udphdr, dest), &new_port, sizeof(new_port), 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";`;

export default defineLab({
  id: 'tc-rewrite',
  title: 'Rewrite at tc',
  requires: ['netns', 'veth', 'tc-bpf', 'bpf'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'snmp', namespace: 'blue', names: ['UdpInDatagrams', 'UdpNoPorts', 'UdpInCsumErrors'] },
  ],
  files: true,
  // Two receivers in blue, one per port, that append what they get to a file the learner can
  // watch. The checker brings its own receivers and never writes to these files.
  setup: sh`
    ${redAndBlue}
    ip netns exec red ethtool -K veth-r tx off >/dev/null
    for port in ${FROM_PORT} ${TO_PORT}; do
      ip netns exec blue setsid socat -u UDP-RECV:$port,reuseaddr OPEN:/root/udp-$port.log,creat,append </dev/null >/dev/null 2>&1 &
    done
    until [ "$(ip netns exec blue ss -Huln 'sport = :${FROM_PORT} or sport = :${TO_PORT}' | wc -l)" -ge 2 ]; do sleep 0.05; done`,
  exercises: [
    {
      id: 'rewrite-port',
      title: `Send port ${FROM_PORT}'s datagrams to port ${TO_PORT}`,
      task: sh`
        Blue runs two UDP receivers: what arrives on port ${FROM_PORT} is appended to
        \`/root/udp-${FROM_PORT}.log\`, what arrives on port ${TO_PORT} to \`/root/udp-${TO_PORT}.log\`.
        From red, \`echo hello | socat -u - UDP-SENDTO:10.0.0.2:${FROM_PORT}\` lands in the first.

        Make it land in the second, without touching the sender: finish \`/root/tc_rewrite.c\`, a tc
        program that rewrites the UDP destination port ${FROM_PORT} to ${TO_PORT} and fixes the UDP
        checksum to match, leaving every other packet alone (\`TC_ACT_OK\`). Compile it with
        \`${COMPILE} -c tc_rewrite.c -o tc_rewrite.o\` and attach it on veth-b's ingress in blue, on a
        \`clsact\` qdisc, in direct-action mode so that its return value is the verdict: in blue,
        \`tc qdisc add dev veth-b clsact\`, then \`tc filter add dev veth-b ingress bpf direct-action obj tc_rewrite.o sec tc\`.

        The checksum is the heart of it. UDP's covers a pseudo-header (the IP addresses, the
        protocol, the length), the UDP header and the payload; change two bytes of the header and
        it no longer adds up, and blue's UDP drops the datagram and counts it in
        \`UdpInCsumErrors\` (\`ip netns exec blue nstat -az UdpInCsumErrors\`). The setup turned
        off red's transmit checksum offload (\`ethtool -K veth-r tx off\`) for that reason: with it
        on, a datagram crosses a veth pair with its checksum left for the "hardware" to finish,
        the receiver trusts it without looking, and a wrong checksum would pass unseen. In IPv4 a
        UDP checksum of 0 means "none": such a datagram must stay checksum-free after your rewrite.

        The checker sends from red to 10.0.0.2:${FROM_PORT} (once with a checksum, once without) and
        expects the datagram, unchanged apart from its port, at its own receiver on ${TO_PORT} and
        nothing on ${FROM_PORT}; it also checks that a datagram to port ${OTHER_PORT} and a ping still get through.`,
      checks: [
        {
          name: 'a bpf filter in direct-action mode is attached to veth-b\'s ingress in blue',
          run: filterState,
          pass: checkFilter,
        },
        {
          name: `a datagram from red to 10.0.0.2:${FROM_PORT} arrives at blue's port ${TO_PORT}, checksum verified, payload intact, and nothing at ${FROM_PORT}`,
          run: exchange(FROM_PORT, [FROM_PORT, TO_PORT]),
          pass: (out) => judgeRewrite(out, false),
          timeoutMs: 10_000,
          live: false,
        },
        {
          name: `a datagram without a checksum (0, "none") to port ${FROM_PORT} is rewritten too and still accepted`,
          run: exchange(FROM_PORT, [FROM_PORT, TO_PORT], NO_CHECKSUM),
          pass: (out) => judgeRewrite(out, true),
          timeoutMs: 10_000,
          live: false,
        },
        {
          name: `everything else is left alone: a datagram to port ${OTHER_PORT} and a ping from red still arrive`,
          run: sh`
            ${exchange(OTHER_PORT, [OTHER_PORT])}
            ip netns exec red ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1 && echo ping=ok || echo ping=lost`,
          pass: (out) => {
            const result = readExchange(out, [OTHER_PORT]);
            if (typeof result === 'string') return result;
            if (!result.at[OTHER_PORT].includes(result.marker)) {
              return `A datagram from red to 10.0.0.2:${OTHER_PORT} did not arrive at port ${OTHER_PORT}${result.csumErrors > 0 ? ` (blue counted ${result.csumErrors} checksum error)` : ''}: only datagrams for port ${FROM_PORT} may be changed, and every other packet must get TC_ACT_OK.`;
            }
            return /^ping=ok$/m.test(out.stdout) || 'A ping from red to 10.0.0.2 got no reply: your program must let everything but UDP to port 5000 through untouched (return TC_ACT_OK).';
          },
          timeoutMs: 10_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [`everything else is left alone: a datagram to port ${OTHER_PORT} and a ping from red still arrive`]:
          'with no program attached everything flows; the check guards against a program that drops or rewrites more than it should',
      },
      hint: sh`
        Compare \`udp->dest\` with \`bpf_htons(${FROM_PORT})\` and return \`TC_ACT_OK\` early when it differs.
        Then, with the old and new port in network byte order: \`bpf_l4_csum_replace(skb, l4 + offsetof(struct udphdr, check), old_port, new_port, BPF_F_MARK_MANGLED_0 | sizeof(new_port))\`
        and \`bpf_skb_store_bytes(skb, l4 + offsetof(struct udphdr, dest), &new_port, sizeof(new_port), 0)\`.
        No BPF_F_PSEUDO_HDR: that is for fields of the pseudo-header (rewriting an IP address), and a
        port is not one. bpf_skb_store_bytes() with BPF_F_RECOMPUTE_CSUM does not help either: that
        flag only keeps skb->csum in step for CHECKSUM_COMPLETE packets and never changes the
        checksum field in the UDP header. To replace your filter after a change:
        \`ip netns exec blue tc filter del dev veth-b ingress\`, then add it again.
        \`tail -f /root/udp-${TO_PORT}.log\` shows what arrives.`,
      solution: [
        'cd /root',
        `cat > tc_rewrite.c <<'EOF'\n${REFERENCE}\nEOF`,
        sh`
          ${COMPILE} -c tc_rewrite.c -o tc_rewrite.o
          ip netns exec blue tc qdisc replace dev veth-b clsact
          ip netns exec blue tc filter del dev veth-b ingress 2>/dev/null || true
          ip netns exec blue tc filter add dev veth-b ingress bpf direct-action obj tc_rewrite.o sec tc
          ip netns exec blue tc filter show dev veth-b ingress
          echo hello | ip netns exec red socat -u - UDP-SENDTO:10.0.0.2:${FROM_PORT}
          sleep 0.2
          cat /root/udp-${TO_PORT}.log`,
      ].join('\n'),
    },
  ],
});
