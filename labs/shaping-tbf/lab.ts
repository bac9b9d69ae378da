import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

const RATE_MBIT = 10;
// tc prints a tbf's rate in bytes per second, whatever unit it was given in (10mbit, 1250kbps…).
const RATE_BYTES = (RATE_MBIT * 1_000_000) / 8;
const SENT_MBIT = 10 * RATE_MBIT;
// Blue may receive a little more than the rate: the bucket starts full (tbf_change()), so that
// much leaves at once. Measured: 9.8 Mbit/s received of a 100 Mbit/s flood, with burst 10kb and
// latency 50ms, every time, also with two busy loops running on the host.
const MOST_RECEIVED_MBIT = RATE_MBIT * 1.2;
// Less than half the rate means the shaper blocks rather than shapes (a burst smaller than a
// packet lets nothing through: tbf_enqueue() drops what is bigger than the bucket).
const LEAST_RECEIVED_MBIT = RATE_MBIT / 2;
// Its own port, so that an iperf3 server the learner left running on 5201 is not in the way.
const CHECK_PORT = 5299;

interface Qdisc {
  kind: string;
  handle: string;
  options?: { rate?: number };
  drops?: number;
}

const mbit = (bitsPerSecond: number) => `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
const tbfOf = (qdiscs: Qdisc[]) => qdiscs.find((qdisc) => qdisc.kind === 'tbf');
const atTheRate = (qdisc: Qdisc) => Math.abs((qdisc.options?.rate ?? 0) - RATE_BYTES) <= RATE_BYTES / 100;

function checkShaper(out: CommandOutput) {
  if (out.exitCode !== 0) return 'There is no veth-r in red any more: press Reset to get the lab back.';
  const qdiscs = json<Qdisc[]>(out);
  const tbf = tbfOf(qdiscs);
  if (!tbf) return `veth-r in red has no tbf qdisc (it has ${qdiscs.map((qdisc) => qdisc.kind).join(', ') || 'none'}): add one with \`tc qdisc add dev veth-r root tbf …\`.`;
  return atTheRate(tbf) || `veth-r's tbf lets ${mbit((tbf.options?.rate ?? 0) * 8)} through, not ${RATE_MBIT} Mbit/s: change it with \`tc qdisc change dev veth-r root tbf rate ${RATE_MBIT}mbit …\`.`;
}

// The checker's own flood: a one-shot iperf3 server in blue, bounded in time, and a one-second UDP
// flood from red, tried a second time if a loaded machine kept iperf3 from sending fast enough.
// Prints {"before": qdiscs, "after": qdiscs, "iperf": the client's JSON report}.
const floodThroughShaper = sh`
  for attempt in 1 2; do
    before=$(tc -n red -s -j qdisc show dev veth-r 2>/dev/null || echo '[]')
    ip netns exec blue timeout 10 iperf3 -s -1 -p ${CHECK_PORT} >/dev/null 2>&1 &
    server=$!
    for wait in $(seq 100); do ip netns exec blue ss -Htln 'sport = :${CHECK_PORT}' | grep -q . && break; sleep 0.05; done
    iperf=$(ip netns exec red timeout 8 iperf3 -u -c 10.0.0.2 -p ${CHECK_PORT} -b ${SENT_MBIT}M -t 1 -l 1400 -J)
    kill $server 2>/dev/null; wait $server 2>/dev/null
    after=$(tc -n red -s -j qdisc show dev veth-r 2>/dev/null || echo '[]')
    echo "$iperf" | jq -e '.end.sum_sent.bits_per_second > ${2 * RATE_MBIT}e6' >/dev/null 2>&1 && break
  done
  printf '{"before":%s,"after":%s,"iperf":%s}' "$before" "$after" "\${iperf:-null}"`;

interface BurstReport {
  before: Qdisc[];
  after: Qdisc[];
  iperf: { error?: string; end?: { sum_sent?: { bits_per_second: number }; sum_received?: { bits_per_second: number } } } | null;
}

function checkBurst(out: CommandOutput) {
  const { before, after, iperf } = json<BurstReport>(out);
  if (!iperf?.end?.sum_received) return `The checker's iperf3 flood from red to blue did not run${iperf?.error ? `: ${iperf.error}` : ''}.`;
  const sent = iperf.end.sum_sent?.bits_per_second ?? 0;
  const received = iperf.end.sum_received.bits_per_second;
  const tbfBefore = tbfOf(before);
  const tbfAfter = tbfOf(after);
  const dropped = tbfBefore && tbfAfter && tbfBefore.handle === tbfAfter.handle ? (tbfAfter.drops ?? 0) - (tbfBefore.drops ?? 0) : 0;
  const numbers = `red sent ${mbit(sent)} for one second, blue received ${mbit(received)}, and veth-r's tbf dropped ${dropped} packets`;
  if (received > MOST_RECEIVED_MBIT * 1e6) return `Not shaped: ${numbers}. Blue should get at most ${MOST_RECEIVED_MBIT} Mbit/s.`;
  if (received < LEAST_RECEIVED_MBIT * 1e6) return `Shaped too hard: ${numbers}. A tbf at ${RATE_MBIT} Mbit/s should let at least ${LEAST_RECEIVED_MBIT} Mbit/s through: is the burst bigger than a packet (1500 bytes)?`;
  if (dropped <= 0) return `The rate is right but tbf dropped nothing: ${numbers}. Its queue is long enough to hold the excess, and packets waiting there still count against the sender's socket buffer, so iperf3 was made to wait instead. Keep the queue short: a latency of 50 ms and a burst of 10 kilobytes.`;
  return true;
}

export default defineLab({
  id: 'shaping-tbf',
  title: 'Shape a flow and count what it drops',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'qdisc', namespace: 'red', device: 'veth-r' },
    { kind: 'link', namespace: 'blue', device: 'veth-b', stats: ['rx_packets', 'rx_bytes'] },
  ],
  setup: redAndBlue,
  exercises: [
    {
      id: 'shape-red',
      title: `Shape what red sends to ${RATE_MBIT} Mbit/s`,
      task: sh`
        Everything red sends to blue leaves through veth-r, which has no queue at all yet
        (\`tc qdisc show dev veth-r\` says noqueue). Put a token bucket filter there: in red, a
        \`tbf\` qdisc at the root of veth-r with a rate of ${RATE_MBIT} Mbit/s, a burst of 10 kilobytes
        and a latency of 50 ms.

        tbf sends a packet only when its bucket holds enough tokens; tokens flow in at the rate and
        the bucket holds at most the burst. Packets that must wait go into a queue of a fixed number of
        bytes (tc works it out from the latency), and what does not fit is dropped and counted.

        Watch it: in blue run \`iperf3 -s\`, in red \`iperf3 -u -c 10.0.0.2 -b ${SENT_MBIT}M -t 1\`, a
        one-second UDP flood at ten times the rate. iperf3 prints what blue received, and
        \`tc -s qdisc show dev veth-r\` in red how many packets tbf dropped.

        The checker sends its own flood like that one and expects blue to receive no more than
        ${MOST_RECEIVED_MBIT} Mbit/s of it, and tbf's drop counter to rise.`,
      checks: [
        { name: `veth-r in red has a tbf qdisc at ${RATE_MBIT} Mbit/s`, run: 'tc -n red -j qdisc show dev veth-r', pass: checkShaper },
        {
          name: `a ${SENT_MBIT} Mbit/s UDP flood from red reaches blue at ${RATE_MBIT} Mbit/s, and tbf drops the rest`,
          run: floodThroughShaper,
          pass: checkBurst,
          timeoutMs: 40_000,
          live: false,
        },
      ],
      hint: `In red: \`tc qdisc add dev veth-r root tbf rate ${RATE_MBIT}mbit burst 10kb latency 50ms\`. Made a mistake? \`tc qdisc del dev veth-r root\` removes it, or \`tc qdisc replace …\` swaps it. Units: tc reads mbit as megabits and mbps as megabytes per second.`,
      solution: sh`
        tc -n red qdisc add dev veth-r root tbf rate ${RATE_MBIT}mbit burst 10kb latency 50ms
        ip netns exec blue timeout 10 iperf3 -s -1 >/dev/null &
        until ip netns exec blue ss -Htln 'sport = :5201' | grep -q .; do sleep 0.05; done
        ip netns exec red iperf3 -u -c 10.0.0.2 -b ${SENT_MBIT}M -t 1
        wait
        tc -n red -s qdisc show dev veth-r`,
    },
  ],
});
