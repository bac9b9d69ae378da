import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

// Where the learner pins things: a directory of their own in the sandbox's bpffs. /run/bpf rather
// than /sys/fs/bpf, because `ip netns exec` mounts a fresh /sys and hides the bpffs bound there.
const PIN_DIR = '/run/bpf/xdp_count';
const MAP = `${PIN_DIR}/proto_count`;
const PROG = `${PIN_DIR}/prog`;
// Where `ip link set … xdp obj` pins a map marked __uint(pinning, LIBBPF_PIN_BY_NAME): iproute2
// pins under $TC_BPF_MNT/tc/globals (measured with iproute2 6.15; /run/bpf/xdp is a symlink to tc).
const IPROUTE2_PIN = '/run/bpf/tc/globals/proto_count';
const ICMP = 1;
const UDP = 17;
// The checker's own traffic from red: a random number of each, in ranges that do not overlap, so
// that counters kept under the wrong key show up as such. Everything is bounded: the datagrams
// leave at once, the pings 50 ms apart and never wait more than a second for a reply.
const PINGS = { least: 3, most: 6 };
const DATAGRAMS = { least: 8, most: 13 };

interface Link {
  xdp?: { prog?: { id: number } };
}

const programAttached = {
  name: 'an XDP program is attached to veth-b in blue',
  run: 'ip -n blue -j link show dev veth-b',
  pass: (out: CommandOutput) => {
    if (out.exitCode !== 0) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
    const [link] = json<Link[]>(out);
    return link.xdp?.prog?.id !== undefined || `veth-b in blue has no XDP program attached: \`ip -n blue link show veth-b\` shows no "prog/xdp". Attach the one you loaded: \`ip netns exec blue bpftool net attach xdp pinned ${PROG} dev veth-b\`.`;
  },
};

interface MapInfo {
  error?: string;
  type?: string;
  bytes_key?: number;
  bytes_value?: number;
  max_entries?: number;
  btf_id?: number;
}

// bpftool's description of the pinned map, then, on a line of its own, the path iproute2 would
// have pinned it at if that exists.
const showPinnedMap = `bpftool -j map show pinned ${MAP} 2>/dev/null; echo; [ -e ${IPROUTE2_PIN} ] && echo ${IPROUTE2_PIN}; true`;

function checkMapPinned(out: CommandOutput) {
  const [infoLine, pinnedByIproute2] = out.stdout.split('\n').filter((line) => line.trim());
  const info = json<MapInfo>({ ...out, stdout: infoLine });
  if (info.error) {
    if (!/No such file/.test(info.error)) return `bpftool cannot open ${MAP}: ${info.error}.`;
    if (pinnedByIproute2) return `Nothing is pinned at ${MAP}, but \`ip link\` pinned a proto_count map at ${IPROUTE2_PIN}: pin it where the checker looks too, with \`mkdir -p ${PIN_DIR}\` and \`bpftool map pin pinned ${IPROUTE2_PIN} ${MAP}\`.`;
    return `Nothing is pinned at ${MAP}: load the program with \`bpftool prog load xdp_count.o ${PROG} type xdp pinmaps ${PIN_DIR}\` (after \`mkdir -p ${PIN_DIR}\`), which pins its maps there under their own names.`;
  }
  if (info.type !== 'percpu_array') return `${MAP} is a ${info.type} map, not a percpu_array: pin the proto_count map of xdp_count.c there.`;
  if (info.bytes_key !== 4 || (info.bytes_value !== 8 && info.bytes_value !== 4)) {
    return `${MAP} has ${info.bytes_key}-byte keys and ${info.bytes_value}-byte values: the starter's map has a 4-byte key (the protocol number) and an 8-byte counter.`;
  }
  if ((info.max_entries ?? 0) <= UDP) return `${MAP} holds ${info.max_entries} counters, so there is no slot for UDP (key ${UDP}): keep max_entries at 256.`;
  if (info.btf_id) return `${MAP} was declared with BTF types (__type(key, …)), so bpftool cannot read it in this sandbox: declare it with __uint(key_size, …) and __uint(value_size, …) as the starter does, and load it again.`;
  return true;
}

// One line per read of the two counters: bpftool's JSON lookup of key 1 (ICMP) and key 17 (UDP).
// The keys are __u32 numbers the program computed, so their bytes are in the CPU's order: on
// x86-64, least significant first ("17 0 0 0").
const readCounters = sh`
  icmp=$(bpftool -j map lookup pinned ${MAP} key ${ICMP} 0 0 0 2>/dev/null)
  udp=$(bpftool -j map lookup pinned ${MAP} key ${UDP} 0 0 0 2>/dev/null)
  printf '{"icmp":%s,"udp":%s}\\n' "\${icmp:-null}" "\${udp:-null}"`;

// Before, the datagrams then the pings, after: veth-b has a single receive queue (ethtool -l), so
// when the last ping is answered the datagrams queued ahead of it have been counted. UDP port 9999, where nothing in blue
// listens: blue answers with ICMP port unreachable, but that leaves through veth-b and XDP only
// sees what arrives.
const countTraffic = sh`
  pings=$(( ${PINGS.least} + RANDOM % ${PINGS.most - PINGS.least + 1} ))
  datagrams=$(( ${DATAGRAMS.least} + RANDOM % ${DATAGRAMS.most - DATAGRAMS.least + 1} ))
  ${readCounters}
  ip netns exec red timeout 5 bash -c "for i in \\$(seq $datagrams); do echo wirelab > /dev/udp/10.0.0.2/9999; done" 2>/dev/null
  ip netns exec red timeout 5 ping -q -c $pings -i 0.05 -W 1 10.0.0.2 >/dev/null 2>&1
  echo "{\\"pings\\":$pings,\\"datagrams\\":$datagrams}"
  ${readCounters}`;

interface Lookup {
  error?: string;
  values?: { cpu: number; value: string[] }[];
  value?: string[];
}

// A per-CPU lookup has one value per possible CPU; the counter is their sum. Each value is the
// counter's bytes as bpftool prints them ("0x03", "0x00", …), least significant first on x86-64.
function total(lookup: Lookup | null): bigint | string {
  if (!lookup) return 'bpftool printed nothing';
  if (lookup.error) return lookup.error;
  const number = (bytes: string[]) => bytes.reduceRight((sum, byte) => sum * 256n + BigInt(parseInt(byte, 16)), 0n);
  if (lookup.values) return lookup.values.reduce((sum, { value }) => sum + number(value), 0n);
  if (lookup.value) return number(lookup.value);
  return 'bpftool printed no value';
}

function checkCounts(out: CommandOutput) {
  const [beforeLine, sentLine, afterLine] = out.stdout.trim().split('\n');
  if (!afterLine) return 'The checker could not read the counters and send its traffic: is the lab still set up? Press Reset if not.';
  const before = json<{ icmp: Lookup | null; udp: Lookup | null }>({ ...out, stdout: beforeLine });
  const sent = json<{ pings: number; datagrams: number }>({ ...out, stdout: sentLine });
  const after = json<{ icmp: Lookup | null; udp: Lookup | null }>({ ...out, stdout: afterLine });
  const counts = [before.icmp, before.udp, after.icmp, after.udp].map(total);
  const unreadable = counts.find((count) => typeof count === 'string');
  if (unreadable !== undefined) {
    if (/btf/i.test(String(unreadable))) return `bpftool could not read the counters at ${MAP} (${unreadable}): the map was declared with BTF types; declare it with __uint(key_size, …) and __uint(value_size, …) as the starter does.`;
    return `bpftool could not read the counters at ${MAP} (${unreadable}): is the map still pinned there?`;
  }
  const [icmpBefore, udpBefore, icmpAfter, udpAfter] = counts as bigint[];
  const icmp = Number(icmpAfter - icmpBefore);
  const udp = Number(udpAfter - udpBefore);
  const numbers = `The checker sent ${sent.pings} pings and ${sent.datagrams} UDP datagrams from red; the map's ICMP counter (key ${ICMP}) rose by ${icmp} and its UDP counter (key ${UDP}) by ${udp}`;
  if (icmp === sent.pings && udp === sent.datagrams) return true;
  if (icmp === 0 && udp === 0) {
    return `${numbers}. Nothing counted: does your program add 1 where the TODO was, and is the program attached to veth-b the one whose map is pinned at ${MAP}? Loading twice makes two maps: \`rm -r ${PIN_DIR}\`, load, pin and attach again.`;
  }
  if (icmp === sent.datagrams && udp === sent.pings) return `${numbers}: the two are swapped. The key is the IP protocol number as it is in the packet (ip->protocol): ${ICMP} for ICMP, ${UDP} for UDP.`;
  if (icmp > sent.pings || udp > sent.datagrams) {
    return `${numbers}, more than the checker sent. Does your program add more than 1 per packet, or is it attached to more than veth-b? Traffic of your own from red while the check runs (a ping left running) would count too.`;
  }
  return `${numbers}, fewer than the checker sent: every IPv4 packet arriving on veth-b must add exactly 1 to the counter of its protocol.`;
}

export default defineLab({
  id: 'xdp-count',
  title: 'Count with a map',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'link', namespace: 'blue', device: 'veth-b', stats: ['rx_packets'] },
    { kind: 'xdp', namespace: 'blue', device: 'veth-b' },
  ],
  files: true,
  // IPv6 is off so that red and blue send each other IPv4 and ARP only: ARP is not IP, so the
  // counters move with the checker's traffic and nothing else.
  setup: sh`
    ${redAndBlue}
    for ns in red blue; do
      ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done`,
  exercises: [
    {
      id: 'count-protocols',
      title: 'Count packets per protocol in a per-CPU array',
      task: sh`
        \`/root/xdp_count.c\` declares a map, \`proto_count\`: a BPF_MAP_TYPE_PERCPU_ARRAY of 256
        counters (\`__u64\`), whose key is the IP protocol number of the packet (\`ip->protocol\`: 1
        ICMP, 6 TCP, 17 UDP). Finish the program where the TODO is: look up the counter for this
        packet's protocol with \`bpf_map_lookup_elem()\`, check that the lookup found it (the verifier
        rejects the program otherwise), and add 1.

        Why per-CPU: a per-CPU array gives every CPU its own copy of each counter. An XDP program
        runs from start to end on one CPU, and the lookup hands it that CPU's copy, so a plain
        \`+= 1\` is safe: no atomic instruction, no cache line bouncing between CPUs that count at
        the same time. Reading is where you pay: bpftool shows one value per CPU, and you add them up.

        Then compile it: \`${COMPILE} -c xdp_count.c -o xdp_count.o\`.

        Load it with bpftool, pinning its maps in a directory of yours, so that the counters are
        at \`${MAP}\`: \`mkdir -p ${PIN_DIR}\`, then \`bpftool prog load xdp_count.o ${PROG} type xdp pinmaps ${PIN_DIR}\`
        (the program is pinned too, as \`${PROG}\`).

        Attach the pinned program to \`veth-b\`, from inside blue where veth-b lives:
        \`ip netns exec blue bpftool net attach xdp pinned ${PROG} dev veth-b\`.

        Why pinned paths: in this sandbox, bpftool can reach a map or a program only through a file
        in the bpffs (/run/bpf). Looking one up by its id (\`bpftool map show\`, \`bpftool map dump id 12\`)
        needs CAP_SYS_ADMIN in the host's own user namespace, which root in a sandbox does not have,
        so it answers "Operation not permitted"; opening a pinned file only needs permission on the
        file. Read the counters with \`bpftool map dump pinned ${MAP}\`, or one of them:
        \`bpftool map lookup pinned ${MAP} key ${UDP} 0 0 0\` (the key is a \`__u32\` in the CPU's byte order,
        least significant byte first on x86-64; bpftool reads key bytes as decimal, or as hex after the word \`hex\`).

        The checker reads the ICMP and UDP counters (keys ${ICMP} and ${UDP}), summed over CPUs, sends a
        few pings and a few UDP datagrams from red (a different number each time), reads them again,
        and expects them to have risen by exactly what it sent.`,
      checks: [
        programAttached,
        { name: `the counter map is pinned at ${MAP}`, run: showPinnedMap, pass: checkMapPinned },
        {
          name: 'the ICMP and UDP counters rise by exactly what the checker sends from red',
          run: countTraffic,
          pass: checkCounts,
          timeoutMs: 15_000,
          live: false,
        },
      ],
      hint: sh`
        Where the TODO is: \`__u64 *count = bpf_map_lookup_elem(&proto_count, &key);\`, then
        \`if (count) *count += 1;\`. Without the check, bpftool prints the verifier's refusal, ending
        in \`R0 invalid mem access 'map_value_or_null'\`. To load again after a change, remove the old pins first
        (\`rm -r ${PIN_DIR}\`: bpftool refuses to pin over an existing file) and attach with
        \`… dev veth-b overwrite\` (or detach first: \`ip -n blue link set dev veth-b xdp off\`). Check
        your work: ping blue from red three times, then \`bpftool map lookup pinned ${MAP} key ${ICMP} 0 0 0\`.`,
      solution: sh`
        cd /root
        sed -i 's|^\\t// TODO: look up.*$|\\t__u64 *count = bpf_map_lookup_elem(\\&proto_count, \\&key);\\n\\tif (count)\\n\\t\\t*count += 1;|' xdp_count.c
        ${COMPILE} -c xdp_count.c -o xdp_count.o
        mkdir -p ${PIN_DIR}
        bpftool prog load xdp_count.o ${PROG} type xdp pinmaps ${PIN_DIR}
        ip netns exec blue bpftool net attach xdp pinned ${PROG} dev veth-b
        ip netns exec red ping -c 3 -i 0.2 10.0.0.2
        bpftool map lookup pinned ${MAP} key ${ICMP} 0 0 0`,
    },
  ],
});
