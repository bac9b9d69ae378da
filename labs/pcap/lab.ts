import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

const PCAP = '/root/echo.pcap';

// How many packets of the capture match a tcpdump filter; exit 3 when there is no capture yet.
const countInCapture = (filter: string) => sh`
  test -f ${PCAP} || exit 3
  tcpdump -nn -r ${PCAP} '${filter}' 2>/dev/null | wc -l`;

const atLeastThree = (what: string) => (out: CommandOutput) => {
  if (out.exitCode === 3) return `There is no ${PCAP} yet.`;
  const count = Number(out.stdout.trim());
  return count >= 3 || `${PCAP} holds ${count} ${what}; capture at least three.`;
};

export default defineLab({
  id: 'pcap',
  title: 'Capture on the wire',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  setup: redAndBlue,
  exercises: [
    {
      id: 'capture-echo',
      title: 'Capture a ping exchange to a pcap file',
      task: sh`
        Red (10.0.0.1) and blue (10.0.0.2) are joined by a veth pair. Capture what arrives on
        \`veth-b\` in blue into \`${PCAP}\` with \`tcpdump -w\` while red pings blue at least three
        times, then stop the capture so the file is complete. Read it back with \`tcpdump -r\`.`,
      checks: [
        {
          name: `${PCAP} is a capture file tcpdump can read`,
          run: `test -f ${PCAP} || exit 3; tcpdump -nn -r ${PCAP} -c 1 2>&1 >/dev/null`,
          pass: (out) => {
            if (out.exitCode === 3) return `There is no ${PCAP} yet: start the capture with \`tcpdump -i veth-b -w ${PCAP}\` inside blue.`;
            return out.exitCode === 0 || `tcpdump cannot read ${PCAP}: ${out.stdout.trim().split('\n').pop()}`;
          },
        },
        {
          name: 'it holds at least three echo requests from red to blue',
          run: countInCapture('icmp[icmptype] == icmp-echo and src 10.0.0.1 and dst 10.0.0.2'),
          pass: atLeastThree('echo requests from 10.0.0.1 to 10.0.0.2'),
        },
        {
          name: "it holds blue's echo replies",
          run: countInCapture('icmp[icmptype] == icmp-echoreply and src 10.0.0.2 and dst 10.0.0.1'),
          pass: atLeastThree('echo replies from 10.0.0.2 to 10.0.0.1'),
        },
      ],
      hint: 'Run tcpdump in the background inside blue (`ip netns exec blue tcpdump -i veth-b -w /root/echo.pcap &`), wait for its "listening on" line, ping from red, then stop tcpdump with Ctrl+C or `kill -INT`. Stop it right after the pings and it may not have written them yet: tcpdump reads packets from the kernel in blocks, unless you ask for `--immediate-mode`.',
      solution: sh`
        ip netns exec blue tcpdump -i veth-b --immediate-mode -w ${PCAP} icmp 2>/tmp/tcpdump.log &
        capture=$!
        until grep -q 'listening on' /tmp/tcpdump.log; do sleep 0.1; done
        ip netns exec red ping -c 3 -i 0.2 10.0.0.2
        sleep 0.3
        kill -INT $capture
        wait $capture || true
        tcpdump -nn -r ${PCAP}`,
    },
  ],
});
