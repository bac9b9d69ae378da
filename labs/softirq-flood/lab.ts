import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { checkTool } from '../check-tools.ts';
import { attackerAndPeerIntoBlue } from '../namespaces.ts';

// Three namespaces, two cables into blue:
//   attacker  eth0 10.0.1.1/24 ── veth-a 10.0.1.2/24 ─┐
//                                                      blue: a TCP service on :8080
//   client    eth0 10.0.2.1/24 ── veth-c 10.0.2.2/24 ─┘
// Each sender has a cable of its own, so "blue's device facing the attacker" is simply veth-a.
const ATTACKER = '10.0.1.1';
const SERVICE = '10.0.2.2:8080';
const TARGET = '10.0.1.2 9'; // blue's end of the attacker's cable, UDP port 9, where nothing listens
const DEADLINE_MS = 2000;
const flood = checkTool('softirq-flood', 'flood.c');

// Blue's count of IPv4 packets that reached its IP layer: InReceives in /proc/net/snmp, which is
// per network namespace. ip_rcv_core() counts a packet there before any IP-level netfilter hook
// (prerouting, input) sees it, so a packet dropped at ingress or by XDP is never counted.
const ipInReceives = `ip netns exec blue awk '/^Ip:/ { if (!seen++) { for (i = 2; i <= NF; i++) c[$i] = i } else print $c["InReceives"] }' /proc/net/snmp`;

// Blue as one JSON line: its nftables ruleset, veth-a (its XDP program if any, its counters) and
// InReceives; null for what is missing. All of it is blue's own, nothing machine-wide.
const snapshot = sh`
  printf '{"nft":%s,"links":%s,"ipInReceives":%s}\\n' \\
    "$(ip netns exec blue nft -j list ruleset 2>/dev/null || echo null)" \\
    "$(ip -n blue -j -s -d link show dev veth-a 2>/dev/null || echo null)" \\
    "$(${ipInReceives} 2>/dev/null || echo null)"`;

interface Snapshot {
  nft: { nftables: { chain?: Chain; rule?: Rule }[] } | null;
  links: { xdp?: { prog?: unknown }; stats64?: { rx: { packets: number } } }[] | null;
  ipInReceives: number | null;
}
interface Chain { family: string; table: string; name: string; hook?: string; dev?: string | string[] }
interface Rule { family: string; table: string; chain: string; expr: Record<string, any>[] }

const chainsOf = (state: Snapshot) => state.nft!.nftables.flatMap((item) => (item.chain ? [item.chain] : []));
const rulesOf = (state: Snapshot) => state.nft!.nftables.flatMap((item) => (item.rule ? [item.rule] : []));
const hasXdp = (state: Snapshot) => state.links?.[0]?.xdp?.prog !== undefined;

// The earliest chains nftables has for veth-a: the netdev family's ingress hook, which
// __netif_receive_skb_core() runs (nf_ingress) before handing the packet to IP. The inet family's
// ingress hook is registered on that same netdev hook (nft_do_chain_inet_ingress), so it counts too.
function earlyChains(state: Snapshot) {
  return chainsOf(state).filter((chain) =>
    ['netdev', 'inet'].includes(chain.family) && chain.hook === 'ingress' && [chain.dev ?? []].flat().includes('veth-a'));
}

// The rules in those chains that both count and drop.
function countingDrops(state: Snapshot) {
  const early = earlyChains(state);
  return rulesOf(state).filter((rule) =>
    early.some((chain) => chain.family === rule.family && chain.table === rule.table && chain.name === rule.chain) &&
    rule.expr.some((e) => 'drop' in e) && rule.expr.some((e) => 'counter' in e));
}

const counted = (state: Snapshot) => countingDrops(state).flatMap((rule) => rule.expr).reduce((n, e) => n + (e.counter?.packets ?? 0), 0);

// A match the attacker's packets can never fit: another source address or prefix, another input
// device. Sets, ranges and the like are left to the active check, which floods and counts.
function missesAttacker({ op, left, right }: { op: string; left: any; right: any }) {
  if (op !== '==') return false;
  if (['iif', 'iifname'].includes(left?.meta?.key)) return right !== 'veth-a';
  if (left?.payload?.protocol !== 'ip' || left.payload.field !== 'saddr') return false;
  if (typeof right === 'string') return right !== ATTACKER;
  if (!right?.prefix) return false;
  const number = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const size = 2 ** (32 - right.prefix.len);
  return Math.floor(number(right.prefix.addr) / size) !== Math.floor(number(ATTACKER) / size);
}

function checkRule(out: CommandOutput) {
  const state = json<Snapshot>(out);
  if (!state.nft || !state.links) return 'Blue or its veth-a is gone: press Reset to get the lab back.';
  if (hasXdp(state)) return true;
  const rules = countingDrops(state);
  const matches = (rule: Rule) => rule.expr.flatMap((e) => (e.match ? [e.match] : []));
  if (rules.some((rule) => !matches(rule).some(missesAttacker))) return true;
  if (rules.length > 0) {
    const miss = matches(rules[0]).find(missesAttacker);
    const value = miss.right?.prefix ? `${miss.right.prefix.addr}/${miss.right.prefix.len}` : miss.right;
    return `Your rule on veth-a matches ${miss.left.meta?.key ?? 'ip saddr'} ${value}, which the attacker's packets (from ${ATTACKER}, in on veth-a) never fit.`;
  }
  if (earlyChains(state).length > 0) return `Your ingress chain on veth-a has no rule that both counts and drops yet: add one such as \`ip saddr ${ATTACKER} counter drop\`.`;
  const hooked = chainsOf(state).filter((chain) => chain.hook);
  const ingress = hooked.find((chain) => chain.hook === 'ingress');
  if (ingress) return `Your ingress chain "${ingress.name}" is on ${[ingress.dev].flat().join(', ')}, but the attacker's packets arrive on veth-a.`;
  if (hooked.length > 0) return `Blue's chains hook ${hooked.map((chain) => `${chain.family} ${chain.hook}`).join(', ')}: by then the packet is already in the IP layer. Drop it earlier, in a netdev-family chain with \`hook ingress device "veth-a"\`.`;
  return 'Blue has no nftables chain on veth-a\'s ingress hook yet (`ip netns exec blue nft list ruleset`), and veth-a has no XDP program.';
}

function checkCountedEarly(out: CommandOutput) {
  const [beforeLine, report = '', afterLine = 'null'] = out.stdout.trim().split('\n');
  const before = json<Snapshot>({ ...out, stdout: beforeLine });
  const after = json<Snapshot>({ ...out, stdout: afterLine });
  if (!after.nft || !after.links || after.ipInReceives === null || !before.links || before.ipInReceives === null) {
    return 'Blue or its veth-a is gone: press Reset to get the lab back.';
  }
  const sent = Number(report.match(/sent (\d+) datagrams/)?.[1]);
  if (Number.isNaN(sent)) return `The checker's flood from attacker did not run (it said: "${report.trim().slice(0, 120)}").`;
  // What the attacker's cable delivered to blue, what of it reached IP, what the rule counted.
  const received = (after.links[0].stats64?.rx.packets ?? 0) - (before.links[0].stats64?.rx.packets ?? 0);
  const reachedIp = after.ipInReceives - before.ipInReceives;
  if (sent < 1000 || received < sent / 2) {
    return `veth-a received ${received} of the ${sent} datagrams the checker's flood managed to send. Is veth-a up? A rule that drops everything arriving on veth-a drops the attacker's ARP requests too, so its datagrams cannot even leave: match its address (\`ip saddr ${ATTACKER}\`) instead.`;
  }
  if (reachedIp > received / 10) return `${reachedIp} of the ${received} packets veth-a received still reached blue's IP layer (IpInReceives): they must be dropped before it, at veth-a's ingress.`;
  if (hasXdp(after)) return true;
  const rose = counted(after) - counted(before);
  return rose >= received / 2 || `Your rule's counter rose by ${rose} while veth-a received ${received} flood packets: something else stopped them, not a rule that counts.`;
}

export default defineLab({
  id: 'softirq-flood',
  title: 'SoftIRQ hell, then drop it early',
  requires: ['netns', 'veth', 'nftables'],
  hosts: ['attacker', 'client', 'blue'],
  counters: [
    { kind: 'link', namespace: 'blue', device: 'veth-a', stats: ['rx_packets', 'rx_dropped'] },
    { kind: 'snmp', namespace: 'blue', names: ['IpInReceives', 'UdpNoPorts'] },
    { kind: 'softnet', columns: ['processed', 'dropped', 'time_squeeze'] },
  ],
  files: true,
  traces: ['softirq', 'drops'],
  // IPv6 is off so that blue's counters move only with the flood and the client's requests.
  setup: sh`
    ${attackerAndPeerIntoBlue('client', 'veth-c')}
    gcc -O2 -o /usr/local/bin/flood /root/flood.c
    ip netns exec blue setsid socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from blue' </dev/null >/dev/null 2>&1 &
    until ip netns exec blue ss -Htln 'sport = :8080' | grep -q .; do sleep 0.05; done`,
  exercises: [
    {
      id: 'drop-at-ingress',
      title: 'Drop the flood at veth-a\'s ingress hook',
      task: sh`
        Blue answers on TCP ${SERVICE} (\`ip netns exec client socat -u TCP:${SERVICE} -\`). The
        attacker (${ATTACKER}) reaches blue through veth-a (10.0.1.2), the client (10.0.2.1) through
        veth-c (10.0.2.2). In attacker, \`flood ${TARGET} 3\` sends small UDP datagrams to port 9,
        where nothing listens, as fast as it can for 3 seconds (10 at most; its source is in /root).

        Watch one: \`grep NET_RX /proc/softirqs\` before and after (machine-wide: about one NET_RX
        run per datagram, on the CPU the flood runs on), \`lab trace softirq 5\` and
        \`lab trace drops 5\` while it runs, and \`ip netns exec blue nstat -az IpInReceives UdpNoPorts\`
        after: every datagram climbs through IP and UDP only to be thrown away for want of a socket.
        A NIC's interrupt schedules NET_RX on the CPU that took it (by default), so a real flood
        piles onto that CPU: after an interrupt the kernel runs pending softirqs for about
        MAX_SOFTIRQ_TIME (2 ms, counted in timer ticks) or 10 rounds at most, then leaves the rest
        to that CPU's ksoftirqd thread, which competes with your programs for it. A veth pair
        (without RPS) queues each packet on the CPU of the process that sent it, so here the
        attacker mostly burns its own CPU and the client barely notices: what you can see is what
        each packet costs.

        Make blue drop the attacker's packets at the earliest hook nftables has: a chain of the
        \`netdev\` family with \`type filter hook ingress device "veth-a"\`, holding a rule that
        matches the attacker, has a \`counter\` (the checker reads it) and drops. The client must
        still get its answer. (An XDP program on veth-a that drops ${ATTACKER} is accepted too.) The
        checker runs short floods of its own: during one it asks the service from client; over the
        other it compares what veth-a received, what your rule counted and what reached blue's IP layer.`,
      checks: [
        {
          name: 'a rule at veth-a\'s ingress hook counts and drops the attacker (or veth-a has an XDP program)',
          run: snapshot,
          pass: checkRule,
        },
        {
          // Timing, with a wide margin: during a flood the answer takes about 10 ms on this
          // two-CPU host, with or without the rule, against a 2 s deadline. The flood is the
          // checker's own, bounded to 1.5 s, and the request starts only once it is running.
          name: `during a flood, the client gets an answer from ${SERVICE} within ${DEADLINE_MS / 1000} s`,
          run: sh`
            ${flood.build}
            ip netns exec attacker timeout 5 ${flood.run} ${TARGET} 1.5 > "$TMPDIR/flood.out" 2>&1 &
            flooding=$!
            sleep 0.3
            kill -0 $flooding 2>/dev/null || { cat "$TMPDIR/flood.out"; exit 4; }
            started=$(date +%s%N)
            echo "answer=$(ip netns exec client timeout 3 socat -u TCP:${SERVICE},connect-timeout=3 - 2>/dev/null)"
            echo "ms=$(( ($(date +%s%N) - started) / 1000000 ))"
            wait $flooding`,
          pass: (out) => {
            if (out.exitCode === 4) return `The checker's flood from attacker did not start (it said: "${out.stdout.trim().slice(0, 120)}").`;
            const ms = Number(out.stdout.match(/^ms=(\d+)/m)?.[1]);
            if (!out.stdout.match(/^answer=(.+)$/m)) return `The client got no answer from ${SERVICE} during the flood: is the service still running in blue (\`ip netns exec blue ss -tln\`), and does your rule let the client through?`;
            return ms <= DEADLINE_MS || `The client's answer took ${ms} ms during the flood, more than ${DEADLINE_MS} ms.`;
          },
          timeoutMs: 10_000,
          live: false,
        },
        {
          // Counts, not rates: three counts of the same packets, all in blue's namespace (veth-a's
          // rx_packets, the rule's counter, InReceives). A busy host changes how many datagrams the
          // flood manages to send in half a second, not the proportions between the three.
          name: 'the checker\'s flood is counted by your rule and never reaches blue\'s IP layer',
          run: sh`
            ${flood.build}
            ${snapshot}
            ip netns exec attacker timeout 5 ${flood.run} ${TARGET} 0.5 2>&1 | tr '\\n' ' '; echo
            ${snapshot}`,
          pass: checkCountedEarly,
          timeoutMs: 10_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [`during a flood, the client gets an answer from ${SERVICE} within ${DEADLINE_MS / 1000} s`]:
          'on veth the flood is processed on the attacker\'s own CPU, so the service still answers; the check guards against a rule that shuts the client out too',
      },
      hint: sh`
        In blue (prefix each command with \`ip netns exec blue\`): \`nft add table netdev filter\`,
        then a base chain \`nft add chain netdev filter ingress '{ type filter hook ingress device "veth-a" priority 0; }'\`,
        then the rule \`nft add rule netdev filter ingress ip saddr ${ATTACKER} counter drop\`. Flood
        again and compare: \`nft list ruleset\` shows the counter rising, IpInReceives and UdpNoPorts
        stay still, \`lab trace drops\` says NETFILTER_DROP instead of NO_SOCKET, and the same flood
        often sends more datagrams in the same time, because each one now costs the kernel less.`,
      solution: sh`
        ip netns exec blue nft add table netdev filter
        ip netns exec blue nft add chain netdev filter ingress '{ type filter hook ingress device "veth-a" priority 0; }'
        ip netns exec blue nft add rule netdev filter ingress ip saddr ${ATTACKER} counter drop
        ip netns exec attacker flood ${TARGET} 0.5
        ip netns exec blue nft list ruleset
        ip netns exec blue nstat -az IpInReceives UdpNoPorts
        ip netns exec client socat -u TCP:${SERVICE} -`,
    },
  ],
});
