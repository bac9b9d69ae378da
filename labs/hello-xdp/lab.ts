import { COMPILE } from '../bpf.ts';
import { defineLab, json, ok, sh } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

interface Link {
  ifname: string;
  xdp?: { prog?: { id: number; name?: string } };
}


const programAttached = {
  name: 'an XDP program is attached to veth-b in blue',
  run: 'ip -n blue -j link show dev veth-b',
  pass: (out: Parameters<typeof ok>[0]) => {
    if (out.exitCode !== 0) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
    const [link] = json<Link[]>(out);
    return link.xdp?.prog?.id !== undefined || 'veth-b in blue has no XDP program attached: `ip -n blue link show veth-b` shows no "prog/xdp".';
  },
};

const pingReachesBlue = 'ip netns exec red ping -c 2 -i 0.2 -W 1 10.0.0.2';

// The checker's own TCP exchange: a one-shot listener in blue, a client in red, both bounded in time.
const tcpReachesBlue = sh`
  ip netns exec blue timeout 3 nc -l 10.0.0.2 9000 > "$TMPDIR/tcp-check.out" &
  sleep 0.3
  echo wirelab | ip netns exec red timeout 2 nc -N 10.0.0.2 9000
  wait
  grep -q wirelab "$TMPDIR/tcp-check.out"`;

export default defineLab({
  id: 'hello-xdp',
  title: 'Hello, XDP',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'link', namespace: 'blue', device: 'veth-b' },
    { kind: 'xdp', namespace: 'blue', device: 'veth-b' },
  ],
  files: true,
  setup: redAndBlue,
  exercises: [
    {
      id: 'attach-pass',
      title: 'Attach an XDP program that passes everything',
      task: sh`
        \`/root/xdp_pass.c\` is a complete XDP program that returns XDP_PASS for every packet.
        Compile it to BPF bytecode with clang and attach it to \`veth-b\` in namespace \`blue\`.
        Red must still reach blue.`,
      checks: [
        programAttached,
        { name: 'red still reaches blue', run: pingReachesBlue, pass: ok, fail: 'Pings from red to blue are lost: an XDP_PASS program should let them through.' },
      ],
      initiallyPassing: { 'red still reaches blue': 'with no program attached, traffic flows; the check guards against a program that drops it' },
      hint: `Compile with \`${COMPILE} -c xdp_pass.c -o xdp_pass.o\`, then attach from inside blue: \`ip netns exec blue ip link set dev veth-b xdp obj xdp_pass.o sec xdp\`.`,
      solution: sh`
        cd /root
        ${COMPILE} -c xdp_pass.c -o xdp_pass.o
        ip netns exec blue ip link set dev veth-b xdp obj xdp_pass.o sec xdp
        ip -n blue link show veth-b`,
    },
    {
      id: 'drop-icmp',
      title: 'Drop ICMP, keep TCP',
      task: sh`
        Finish \`/root/xdp_drop_icmp.c\` so that it returns XDP_DROP for IPv4 ICMP and XDP_PASS for
        everything else, compile it and attach it to \`veth-b\` in \`blue\` (replacing any program there).
        The checker pings blue from red (which must now fail) and opens a TCP connection (which must still work).`,
      checks: [
        programAttached,
        {
          name: 'pings from red to blue are dropped',
          run: pingReachesBlue,
          pass: (out) => out.exitCode !== 0 || 'Red\'s pings still reach blue: ICMP passes the program on veth-b.',
          live: false,
        },
        {
          name: 'TCP from red to blue still works',
          run: tcpReachesBlue,
          pass: ok,
          fail: 'A TCP connection from red to 10.0.0.2:9000 failed: the program drops more than ICMP.',
          live: false,
        },
      ],
      initiallyPassing: { 'TCP from red to blue still works': 'with no program attached, TCP flows; the check guards against a program that drops everything' },
      hint: sh`
        Compare \`ip->protocol\` with \`IPPROTO_ICMP\` and return \`XDP_DROP\` when they match. ip will not
        attach over the program already on veth-b: without \`-force\` it answers "Error: XDP program
        already attached." Replace it in one step with
        \`ip netns exec blue ip -force link set dev veth-b xdp obj xdp_drop_icmp.o sec xdp\`,
        or detach first with \`ip netns exec blue ip link set dev veth-b xdp off\` (with
        \`xdpgeneric off\` if you attached it with \`xdpgeneric\`: a plain \`xdp off\` leaves a
        generic program in place).`,
      solution: sh`
        cd /root
        sed -i 's|// TODO: if this IPv4 packet carries ICMP (ip->protocol), drop it.|if (ip->protocol == IPPROTO_ICMP) return XDP_DROP;|' xdp_drop_icmp.c
        ${COMPILE} -c xdp_drop_icmp.c -o xdp_drop_icmp.o
        ip netns exec blue ip link set dev veth-b xdp off
        ip netns exec blue ip link set dev veth-b xdp obj xdp_drop_icmp.o sec xdp`,
    },
  ],
});
