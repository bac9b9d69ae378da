import { COMPILE } from '../bpf.ts';
import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';
import { describeExplanation, explainVerifierLog, VERIFIER_LOAD } from '../verifier-log.ts';

const BLOCKED_PORT = 9999;
const OPEN_PORT = 9998;
const SENT = 3;
// iproute2 pins LIBBPF_PIN_BY_NAME maps in <bpffs>/tc/globals (its xdp/ and ip/ are symlinks to
// tc/). /run/bpf is the sandbox's bpffs everywhere; /sys/fs/bpf is hidden inside `ip netns exec`,
// which remounts /sys.
const MAP = '/run/bpf/tc/globals/dropped';
const RED = '10.0.0.1';

interface Link {
  xdp?: { prog?: { id: number } };
}

// veth-b in blue (null if gone), and whether the learner's source still does the program's work:
// reads the UDP header and looks the source up in the map. Deleting either would make the
// verifier's complaints go away with the program's job.
const attachedState = sh`
  src=/root/xdp_guard.c
  has() { grep -Eq "$1" $src 2>/dev/null && echo true || echo false; }
  printf '{"link":%s,"source":%s,"lookup":%s,"header":%s}\\n' \\
    "$(ip -n blue -j link show dev veth-b 2>/dev/null || echo null)" \\
    "$([ -f $src ] && echo true || echo false)" \\
    "$(has 'bpf_map_lookup_elem[[:space:]]*\\([[:space:]]*&dropped')" \\
    "$(has 'udp[[:space:]]*->[[:space:]]*dest')"`;

function checkAttached(out: CommandOutput): true | string {
  const state = json<{ link: Link[] | null; source: boolean; lookup: boolean; header: boolean }>(out);
  if (!state.link) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  if (state.link[0]?.xdp?.prog?.id === undefined) {
    return 'veth-b in blue has no XDP program attached yet. If `ip netns exec blue ip link set dev veth-b xdp obj xdp_guard.o sec xdp` printed a verifier log ending in an error, the program was refused: the line just before "processed … insns" says why.';
  }
  if (!state.source) return '/root/xdp_guard.c is gone: the fix is to be made in it (press Reset to get the original back).';
  if (!state.header) return 'Your xdp_guard.c no longer reads udp->dest: the program cannot tell port 9999 without it. Keep the read and prove it safe to the verifier with a bounds check before it.';
  if (!state.lookup) return 'Your xdp_guard.c no longer calls bpf_map_lookup_elem(&dropped, …): counting the drops is half the job. Keep the lookup and check its result before using it.';
  return true;
}

// The checker's own receivers bound to 10.0.0.2 in blue on both ports, a marked datagram to each
// from red, and what arrived where.
const dropsOnlyBlocked = sh`
  ip -n blue link show dev veth-b >/dev/null 2>&1 || { echo error=gone; exit 0; }
  dir=$(mktemp -d)
  marker=wirelab-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \\n')
  pids=
  for port in ${BLOCKED_PORT} ${OPEN_PORT}; do
    ip netns exec blue timeout 4 socat -u UDP-RECV:$port,bind=10.0.0.2,reuseaddr OPEN:$dir/$port,creat 2>/dev/null &
    pids="$pids $!"
  done
  for i in $(seq 40); do
    [ "$(ip netns exec blue ss -Huln 'src 10.0.0.2:${BLOCKED_PORT} or src 10.0.0.2:${OPEN_PORT}' | wc -l)" -ge 2 ] && break
    sleep 0.025
  done
  for port in ${BLOCKED_PORT} ${OPEN_PORT}; do
    ip netns exec blue ss -Huln "src 10.0.0.2:$port" | grep -q . || { echo error=busy:$port; kill $pids; rm -rf $dir; exit 0; }
  done
  for port in ${OPEN_PORT} ${BLOCKED_PORT}; do
    printf %s "$marker" | ip netns exec red socat -u - UDP-SENDTO:10.0.0.2:$port
  done
  for i in $(seq 40); do [ -s $dir/${OPEN_PORT} ] && break; sleep 0.025; done
  sleep 0.1
  kill $pids 2>/dev/null; wait 2>/dev/null
  echo marker=$marker
  for port in ${BLOCKED_PORT} ${OPEN_PORT}; do echo "at$port=$(tr -d '\\n' < $dir/$port)"; done
  rm -rf $dir`;

function checkDrops(out: CommandOutput): true | string {
  const field = (name: string) => out.stdout.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
  const error = field('error');
  if (error === 'gone') return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  if (error?.startsWith('busy:')) {
    return `The checker could not listen on UDP port ${error.slice(5)} in blue: another socket holds it without SO_REUSEADDR (\`ip netns exec blue ss -ulnp\`). Stop it and check again.`;
  }
  const marker = field('marker');
  if (!marker) return `The checker's exchange did not run to the end (it said: "${(out.stderr || out.stdout).trim().slice(0, 160)}").`;
  if (field(`at${BLOCKED_PORT}`)?.includes(marker)) {
    return `A datagram from red to 10.0.0.2:${BLOCKED_PORT} still reached its receiver in blue: is xdp_guard attached to veth-b in blue (\`ip -n blue link show veth-b\` shows "prog/xdp"), and does it compare udp->dest with bpf_htons(${BLOCKED_PORT})?`;
  }
  if (!field(`at${OPEN_PORT}`)?.includes(marker)) {
    return `A datagram from red to 10.0.0.2:${OPEN_PORT} was lost: the program must drop UDP to port ${BLOCKED_PORT} only and pass everything else (XDP_PASS).`;
  }
  return true;
}

// The count for red's address in the pinned map, before and after the checker sends SENT
// datagrams to the blocked port. bpftool prints key and value as bytes in memory order: the key
// as in the packet (network order), the value a little-endian u64 (x86).
const countedPerSource = sh`
  dump() { [ -e ${MAP} ] && bpftool -j map dump pinned ${MAP} 2>/dev/null || echo null; }
  echo "before=$(dump)"
  for i in $(seq ${SENT}); do printf 'blocked %s' $i | ip netns exec red socat -u - UDP-SENDTO:10.0.0.2:${BLOCKED_PORT}; done
  sleep 0.2
  echo "after=$(dump)"`;

type Entry = { key: string[]; value: string[] };

function countFor(entries: Entry[], address: string) {
  const key = address.split('.').map(Number);
  const entry = entries.find((candidate) => candidate.key.length === 4 && candidate.key.every((byte, i) => Number(byte) === key[i]));
  return entry ? entry.value.reduce((sum, byte, i) => sum + Number(byte) * 2 ** (8 * i), 0) : 0;
}

function checkCounted(out: CommandOutput): true | string {
  const line = (name: string) => out.stdout.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1] ?? 'null';
  const before = json<Entry[] | null>({ ...out, stdout: line('before') });
  const after = json<Entry[] | null>({ ...out, stdout: line('after') });
  if (!Array.isArray(before) || !Array.isArray(after)) {
    return `There is no map pinned at ${MAP} yet: it appears when ip loads xdp_guard.o (the map is declared with LIBBPF_PIN_BY_NAME). Once the verifier accepts the program, \`bpftool map dump pinned ${MAP}\` shows it.`;
  }
  const rose = countFor(after, RED) - countFor(before, RED);
  if (rose === SENT) return true;
  if (rose === 0) {
    return `The checker sent ${SENT} datagrams from ${RED} to port ${BLOCKED_PORT} and the map's count for ${RED} did not move (\`bpftool map dump pinned ${MAP}\`). Is xdp_guard attached, does it still give a new source its entry (the bpf_map_update_elem(…, BPF_NOEXIST) before the lookup), and does the increment still run whenever the lookup finds it? The NULL check must skip the increment only when the lookup fails.`;
  }
  return `The checker sent ${SENT} datagrams from ${RED} to port ${BLOCKED_PORT} and the map's count for ${RED} rose by ${rose}: it must rise by one per dropped datagram, and only for dropped ones.`;
}

export default defineLab({
  id: 'verifier-fix',
  title: 'Fix what the verifier rejects',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['red', 'blue'],
  files: true,
  setup: redAndBlue,
  exercises: [
    {
      id: 'fix-and-attach',
      title: 'Make xdp_guard load, and keep it doing its job',
      task: sh`
        \`/root/xdp_guard.c\` is an XDP program with a job: drop every UDP datagram sent to port
        ${BLOCKED_PORT} and count, in the hash map \`dropped\`, how many it dropped per source address.
        It compiles (\`${COMPILE} -c xdp_guard.c -o xdp_guard.o\`), but
        \`ip netns exec blue ip link set dev veth-b xdp obj xdp_guard.o sec xdp\` fails: the kernel's
        verifier refuses it and ip prints the verifier's log.

        Read the log from the bottom up. The last line before \`processed … insns\` is the complaint;
        above it, every instruction the verifier walked, each \`; … @ xdp_guard.c:NN\` line naming the
        line of C it came from, and after each instruction what the verifier knows about the
        registers: \`pkt(off=14,r=34)\` is a pointer 14 bytes into the packet, with 34 bytes proven
        present by your checks against data_end; \`map_value_or_null\` is what a map lookup
        returns, a pointer that may be NULL. The verifier stops at the first problem, so fix it,
        compile, load again and read the next one (\`lab explain xdp_guard.c\` reads the log with you,
        and Check shows the same explanation under the first criterion). Fix the C, not the job: the program must still
        read the UDP header and still look the source up in \`dropped\`.

        When it loads, it is attached (\`ip -n blue link show veth-b\` shows \`prog/xdp\`). From red,
        \`echo hi | socat -u - UDP-SENDTO:10.0.0.2:${BLOCKED_PORT}\` is dropped, and
        \`bpftool map dump pinned ${MAP}\` shows a count for key \`0a 00 00 01\` (${RED}). The
        checker sends datagrams to ports ${BLOCKED_PORT} and ${OPEN_PORT}, and reads the map.`,
      checks: [
        {
          name: 'xdp_guard.c passes the verifier',
          run: `bash -c '${VERIFIER_LOAD.replaceAll("'", "'\\''")}' load /root/xdp_guard.c`,
          // On the page, a refusal shows what lab explain shows in the terminal: the complaint, its C line, the usual fix.
          pass: (out) => {
            if (out.exitCode === 0) return true;
            const explanation = explainVerifierLog(out.stdout);
            return explanation ? describeExplanation(explanation) : `xdp_guard.c does not load: ${out.stdout.trim().split('\n').slice(-3).join(' / ')}`;
          },
        },
        { name: 'the fixed xdp_guard is attached to veth-b in blue, still reading the UDP header and looking up the map', run: attachedState, pass: checkAttached },
        {
          name: `UDP from red to 10.0.0.2:${BLOCKED_PORT} is dropped, UDP to port ${OPEN_PORT} still arrives`,
          run: dropsOnlyBlocked,
          pass: checkDrops,
          timeoutMs: 10_000,
          live: false,
        },
        {
          name: `each dropped datagram is counted for its source in the map dropped`,
          run: countedPerSource,
          pass: checkCounted,
          timeoutMs: 10_000,
          live: false,
        },
      ],
      hint: sh`
        First complaint, \`invalid access to packet … R2 offset is outside of the packet\` at the
        line reading udp->dest: nothing proved the UDP header is inside the packet. Check it as the
        code above does for the Ethernet and IP headers:
        \`if ((void *)(udp + 1) > data_end) return XDP_PASS;\` before the read. Second complaint,
        \`R1 invalid mem access 'map_value_or_null'\` at the increment: bpf_map_lookup_elem() returns
        NULL when the key is missing. The update just before it made the entry, you think, but it
        can fail (the map holds at most 1024 sources) and userspace can delete the entry in
        between: the verifier is right. Write \`if (count)\` before the increment. To attach over a
        program already on veth-b, detach it first: \`ip netns exec blue ip link set dev veth-b xdp off\`.`,
      solution: sh`
        cd /root
        ${COMPILE} -c xdp_guard.c -o xdp_guard.o
        ip netns exec blue ip link set dev veth-b xdp obj xdp_guard.o sec xdp 2>&1 | grep -A1 'invalid access to packet' || true
        sed -i 's|^\\tstruct udphdr \\*udp = (void \\*)ip + ip->ihl \\* 4;$|&\\n\\tif ((void *)(udp + 1) > data_end)\\n\\t\\treturn XDP_PASS;|' xdp_guard.c
        ${COMPILE} -c xdp_guard.c -o xdp_guard.o
        ip netns exec blue ip link set dev veth-b xdp obj xdp_guard.o sec xdp 2>&1 | grep map_value_or_null || true
        sed -i 's|^\\t__sync_fetch_and_add(count, 1);$|\\tif (count)\\n\\t\\t__sync_fetch_and_add(count, 1);|' xdp_guard.c
        ${COMPILE} -c xdp_guard.c -o xdp_guard.o
        ip netns exec blue ip link set dev veth-b xdp off
        ip netns exec blue ip link set dev veth-b xdp obj xdp_guard.o sec xdp
        ip -n blue link show veth-b
        echo hi | ip netns exec red socat -u - UDP-SENDTO:10.0.0.2:${BLOCKED_PORT}
        sleep 0.2
        bpftool map dump pinned ${MAP}`,
    },
  ],
});
