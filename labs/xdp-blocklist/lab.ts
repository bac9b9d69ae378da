import { COMPILE, counterOf } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { attackerAndPeerIntoBlue, pingsAnswered } from '../namespaces.ts';

// Three namespaces, two cables into blue, one XDP program on both of blue's ends:
//   attacker  eth0 10.0.1.1/24 ── veth-a 10.0.1.2/24 ─┐
//                                                      blue: xdp_blocklist on veth-a and veth-f,
//   friend    eth0 10.0.2.1/24 ── veth-f 10.0.2.2/24 ─┘       a TCP service on :8080
// The program is the same on both devices and drops by source address only, so what tells the
// attacker from the friend is the map, nothing else.
const ATTACKER = '10.0.1.1';
const FRIEND = '10.0.2.1';
const BLUE_FOR_ATTACKER = '10.0.1.2';
const BLUE_FOR_FRIEND = '10.0.2.2';
const PORT = 8080;
// /run/bpf rather than /sys/fs/bpf: `ip netns exec` mounts a fresh /sys and hides the bpffs there.
const PIN_DIR = '/run/bpf/blocklist';
const MAP = `${PIN_DIR}/blocked`;
const PROG = `${PIN_DIR}/prog`;
const DEVICES = ['veth-a', 'veth-f'];
// The key bpftool takes for the attacker's address as packets carry it: its four numbers, in order.
const ATTACKER_KEY = ATTACKER.split('.').join(' ');

const bytesOf = (hex: string[]) => hex.map((byte) => parseInt(byte, 16));
const addressOf = (bytes: number[]) => bytes.join('.');

interface Entry { key: string[]; value: string[] }
interface Link { ifname: string; xdp?: { prog?: { id: number } } }

// What is on blue's side: the map's entries (or bpftool's error) and blue's links.
const blueState = sh`
  dump=$(bpftool -j map dump pinned ${MAP} 2>/dev/null)
  printf '{"dump":%s,"links":%s}\\n' "\${dump:-null}" "$(ip -n blue -j link show 2>/dev/null || echo null)"`;

// Which of blue's ends lost the program, as a sentence, or null when both have it.
function missingProgram(links: Link[] | null) {
  if (!links) return 'Namespace blue is gone: press Reset to get the lab back.';
  const without = DEVICES.filter((name) => !links.find((link) => link.ifname === name)?.xdp?.prog);
  if (without.length === 0) return null;
  return `${without.join(' and ')} in blue ${without.length > 1 ? 'have' : 'has'} no XDP program any more: attach it again with ${without.map((name) => `\`ip -n blue link set dev ${name} xdp pinned ${PROG}\``).join(' and ')}.`;
}

function checkEntry(out: CommandOutput) {
  const state = json<{ dump: Entry[] | { error: string } | null; links: Link[] | null }>(out);
  const missing = missingProgram(state.links);
  if (missing) return missing;
  if (!state.dump || !Array.isArray(state.dump)) {
    return `bpftool cannot read the block list at ${MAP}${state.dump && 'error' in state.dump ? ` (${state.dump.error})` : ''}: press Reset to get it back.`;
  }
  const addresses = state.dump.map((entry) => addressOf(bytesOf(entry.key)));
  if (addresses.includes(ATTACKER)) return true;
  if (addresses.length === 0) return `The block list is empty (\`bpftool map dump pinned ${MAP}\`): add the attacker's address to it with \`bpftool map update pinned ${MAP} key … value …\`.`;
  const reversed = ATTACKER.split('.').reverse().join('.');
  if (addresses.includes(reversed)) {
    return `The block list holds ${reversed}: that is the attacker's address with its bytes reversed, the order of a number on this little-endian CPU. Packets carry addresses most significant byte first (network byte order), and the program looks them up as they are: the key is \`${ATTACKER_KEY}\`.`;
  }
  return `The block list holds ${addresses.join(', ')}, but not the attacker, ${ATTACKER}.`;
}

// The attacker's entry as bpftool shows it, or nothing when there is none.
const lookupAttacker = `bpftool -j map lookup pinned ${MAP} key ${ATTACKER_KEY} 2>/dev/null`;

// The checker's own traffic from the attacker: a few pings, then one TCP connection to blue's
// service, each bounded in time. Key=value lines, read by lineValues().
const attackerTraffic = sh`
  pings=$(( 3 + RANDOM % 3 ))
  echo "before=$(${lookupAttacker})"
  echo "pings=$pings"
  echo "replies=${pingsAnswered('attacker', BLUE_FOR_ATTACKER, '-c $pings -i 0.1', 3)}"
  echo "answer=$(ip netns exec attacker timeout 3 socat -u TCP:${BLUE_FOR_ATTACKER}:${PORT},connect-timeout=1 - 2>/dev/null | head -c 60)"
  echo "after=$(${lookupAttacker})"`;

function lineValues(out: CommandOutput) {
  return Object.fromEntries(out.stdout.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]));
}

// The drop counter of a `bpftool -j map lookup` answer; null when there is no such entry (bpftool
// prints null, or nothing when the map itself is gone).
function entryCount(lookup: string | undefined) {
  const entry = lookup ? json<Entry | null>({ stdout: lookup, stderr: '', exitCode: 0 }) : null;
  return entry?.value ? counterOf(entry.value) : null;
}

function checkAttackerDropped(out: CommandOutput) {
  const values = lineValues(out);
  const pings = Number(values.pings);
  const replies = Number(values.replies || 0);
  const before = entryCount(values.before);
  const after = entryCount(values.after);
  if (replies > 0 || values.answer) {
    const got = [replies > 0 && `${replies} of its ${pings} pings were answered`, values.answer && `its TCP connection to ${BLUE_FOR_ATTACKER}:${PORT} got "${values.answer}"`].filter(Boolean).join(' and ');
    return `The attacker still reaches blue: ${got}.${after === null ? ` Its address, ${ATTACKER}, is not in the block list (\`bpftool map dump pinned ${MAP}\`).` : ''}`;
  }
  if (after === null || before === null) return `The attacker's pings and TCP connection got no answer, but ${ATTACKER} is not in the block list, so something else stopped them: the map must do the blocking.`;
  const counted = after - before;
  return counted >= pings || `The attacker's ${pings} pings and its TCP connection got no answer, but its entry in the block list counted only ${counted} dropped packets: something else (an nftables rule, a route?) stopped them before the map could.`;
}

// The checker's friend: pings and a request to blue's service, each bounded in time.
const friendTraffic = sh`
  echo "replies=${pingsAnswered('friend', BLUE_FOR_FRIEND, '-c 2 -i 0.2', 3)}"
  echo "answer=$(ip netns exec friend timeout 3 socat -u TCP:${BLUE_FOR_FRIEND}:${PORT},connect-timeout=2 - 2>/dev/null | head -c 60)"`;

function checkFriendPasses(out: CommandOutput) {
  const { replies, answer } = lineValues(out);
  if (!Number(replies)) return `The friend's pings to ${BLUE_FOR_FRIEND} got no answer: only the attacker (${ATTACKER}) should be blocked. Is ${FRIEND} in the block list?`;
  return Boolean(answer) || `The friend's TCP connection to ${BLUE_FOR_FRIEND}:${PORT} got no answer. Is blue's service still running (\`ip netns exec blue ss -tln\`)? If not, press Reset.`;
}

// The proof that the map does the blocking: the checker takes the attacker's entry out, pings from
// the attacker (it must get through), puts the entry back as it was, and pings again (it must
// not). The entry is out for about half a second, and put back whatever the ping did.
const withoutTheEntry = sh`
  saved=$(${lookupAttacker}) || { echo "absent=yes"; exit 0; }
  value=$(echo "$saved" | jq -r '.value | join(" ")')
  bpftool map delete pinned ${MAP} key ${ATTACKER_KEY}
  echo "without=${pingsAnswered('attacker', BLUE_FOR_ATTACKER, '-c 2 -i 0.2', 3)}"
  bpftool map update pinned ${MAP} key ${ATTACKER_KEY} value $value && echo "restored=yes"
  echo "with=${pingsAnswered('attacker', BLUE_FOR_ATTACKER, '-c 1', 3)}"`;

function checkMapDecides(out: CommandOutput) {
  const values = lineValues(out);
  if (values.absent) return `The attacker's address, ${ATTACKER}, is not in the block list, so there is no entry to take out and put back.`;
  if (!values.restored) return `The checker took the attacker's entry out of ${MAP} but could not put it back: add it again with \`bpftool map update pinned ${MAP} key ${ATTACKER_KEY} value 0 0 0 0 0 0 0 0\`.`;
  if (!Number(values.without)) return `With the attacker's entry taken out of the block list, the attacker still could not ping blue: something besides the map blocks it (an nftables rule, a route?). Remove it: the map alone must decide.`;
  return !Number(values.with) || 'With the attacker\'s entry back in the block list, its ping got through again: is the program still attached to veth-a?';
}

export default defineLab({
  id: 'xdp-blocklist',
  title: 'A block list from userspace',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['attacker', 'friend', 'blue'],
  counters: [
    { kind: 'xdp', namespace: 'blue', device: 'veth-a' },
    { kind: 'xdp', namespace: 'blue', device: 'veth-f' },
  ],
  files: true,
  // IPv6 is off so that nothing but the checkers' IPv4 (and ARP, which the program lets through)
  // crosses the cables. The program is loaded once, pinned, and attached to both of blue's ends.
  setup: sh`
    ${attackerAndPeerIntoBlue('friend', 'veth-f')}
    cd /root
    ${COMPILE} -c xdp_blocklist.c -o xdp_blocklist.o
    mkdir -p ${PIN_DIR}
    bpftool prog load xdp_blocklist.o ${PROG} type xdp pinmaps ${PIN_DIR}
    for dev in ${DEVICES.join(' ')}; do ip -n blue link set dev $dev xdp pinned ${PROG}; done
    ip netns exec blue setsid socat TCP-LISTEN:${PORT},fork,reuseaddr SYSTEM:'echo hello from blue' </dev/null >/dev/null 2>&1 &
    until ip netns exec blue ss -Htln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done`,
  exercises: [
    {
      id: 'block-the-attacker',
      title: 'Block the attacker by writing its address into a map',
      task: sh`
        Blue answers on TCP port ${PORT} (\`ip netns exec friend socat -u TCP:${BLUE_FOR_FRIEND}:${PORT} -\`).
        The attacker (${ATTACKER}) reaches blue through veth-a (${BLUE_FOR_ATTACKER}), the friend
        (${FRIEND}) through veth-f (${BLUE_FOR_FRIEND}). Both of blue's ends already run the same XDP
        program, \`/root/xdp_blocklist.c\`, loaded and pinned at \`${PROG}\`: it drops every IPv4
        packet whose source address is a key of the hash map pinned at \`${MAP}\`, and counts the drops
        in that key's value. The map is empty, so everything passes.

        Block the attacker without touching the program: from userspace, add its address to the map
        with \`bpftool map update pinned ${MAP} key … value …\`. The kernel reads the map on every
        packet, so the change takes effect at once, with no reload and no new verification: that is
        how XDP firewalls and load balancers change policy while traffic flows.

        Mind the byte order. The key is 4 bytes, and the program looks up \`ip->saddr\` as the packet
        carries it: in network byte order, most significant byte first. So the key's bytes are the
        address's four numbers in the order you write them: for 192.0.2.7, \`key 192 0 2 7\` (bpftool
        reads bytes as decimal, or as hex after the word \`hex\`: \`key hex c0 00 02 07\`). Read as a
        number on this little-endian CPU, those same bytes are 0x070200c0; a key made from the number
        0xc0000207 stored in the CPU's order would be \`7 2 0 192\`, which no packet carries. The
        value is 8 bytes, the drop counter: start it at zero.

        Why a pinned path: bpftool can reach the map only through its file in the bpffs. Looking it
        up by id (\`bpftool map show\`, \`bpftool map dump id 12\`) needs CAP_SYS_ADMIN in the host's
        own user namespace, which root in this sandbox does not have; opening a pinned file only
        needs permission on the file.

        The checker reads the map (\`bpftool -j map dump pinned ${MAP}\`), pings blue and opens a TCP
        connection from the attacker (which must fail, and be counted by its entry) and from the
        friend (which must work), and finally takes the attacker's entry out for a moment (the
        attacker must then get through) and puts it back.`,
      checks: [
        { name: `the block list at ${MAP} holds the attacker's address, ${ATTACKER}`, run: blueState, pass: checkEntry },
        {
          name: 'the attacker\'s pings and TCP connection are dropped, and its entry counts them',
          run: attackerTraffic,
          pass: checkAttackerDropped,
          timeoutMs: 15_000,
          live: false,
        },
        {
          name: 'the friend still reaches blue, by ping and by TCP',
          run: friendTraffic,
          pass: checkFriendPasses,
          timeoutMs: 10_000,
          live: false,
        },
        {
          name: 'the map decides: with the attacker\'s entry taken out, the attacker gets through',
          run: withoutTheEntry,
          pass: checkMapDecides,
          timeoutMs: 10_000,
          live: false,
        },
      ],
      initiallyPassing: {
        'the friend still reaches blue, by ping and by TCP': 'with an empty block list everyone gets through; the check guards against blocking the friend too',
      },
      hint: sh`
        \`bpftool map update pinned ${MAP} key ${ATTACKER_KEY} value 0 0 0 0 0 0 0 0\`. Then
        \`bpftool map dump pinned ${MAP}\` shows the entry (bytes in hex: \`0a 00 01 01\`); ping blue from
        the attacker and dump again: the value counts what was dropped. A wrong entry comes out with
        \`bpftool map delete pinned ${MAP} key …\`.`,
      solution: sh`
        bpftool map update pinned ${MAP} key ${ATTACKER_KEY} value 0 0 0 0 0 0 0 0
        ip netns exec attacker ping -c 2 -W 1 ${BLUE_FOR_ATTACKER} || true
        ip netns exec friend ping -c 2 -i 0.2 ${BLUE_FOR_FRIEND}
        bpftool map dump pinned ${MAP}`,
    },
  ],
});
