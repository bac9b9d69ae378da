import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

const ANSWER = '/root/answer.txt';
const TOLERANCE = 2;

// Everything the checker compares, as key=value lines.
const readState = sh`
  echo "answer=$(head -c 40 ${ANSWER} 2>/dev/null | tr -d '\\n')"
  echo "before=$(cat /root/.rx-before 2>/dev/null)"
  echo "after=$(cat /root/.rx-after 2>/dev/null)"`;

function stateOf(out: CommandOutput) {
  return Object.fromEntries(out.stdout.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]));
}

export default defineLab({
  id: 'rx-path',
  title: 'Watch the receive path',
  requires: ['netns', 'veth', 'tracepoints'],
  hosts: ['red', 'blue'],
  files: true,
  traces: ['receive'],
  // What send-pings moves: blue's veth-b receives what red's veth-r sends, and a CPU processes it.
  counters: [
    { kind: 'link', namespace: 'blue', device: 'veth-b' },
    { kind: 'link', namespace: 'red', device: 'veth-r' },
    { kind: 'softnet', columns: ['processed'] },
  ],
  // IPv6 is off so that no router or neighbour solicitation slips into the count.
  setup: sh`
    ${redAndBlue}
    for ns in red blue; do
      ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    install -m 755 /root/send-pings /usr/local/bin/send-pings`,
  exercises: [
    {
      id: 'count-receives',
      title: 'Count what blue receives, with a tracepoint',
      task: sh`
        Every packet the stack receives passes the tracepoint \`net:netif_receive_skb\`, which
        carries the name of the device it arrived on. A tracepoint sees the whole machine, so the
        server attaches to it for you and keeps only your sandbox's packets: \`lab trace receive 20\`
        counts them by device for 20 seconds. Start it in the *lab* tab; while it counts, run
        \`send-pings\` in the *red* tab (it sends a number of pings you do not know in advance);
        when the trace ends (or you stop it with Ctrl+C), write the count it printed for
        \`veth-b\` into \`${ANSWER}\`, as a bare number.`,
      checks: [
        {
          name: `${ANSWER} holds a number`,
          run: readState,
          pass: (out) => {
            const { answer } = stateOf(out);
            if (!answer) return `${ANSWER} is missing or empty: write the count there, for example \`echo 12 > ${ANSWER}\`.`;
            return /^\d+$/.test(answer) || `${ANSWER} holds "${answer}", not a bare number.`;
          },
        },
        {
          name: "the number is what veth-b received while send-pings ran",
          run: readState,
          pass: (out) => {
            const { answer, before, after } = stateOf(out);
            if (!before || !after) return 'send-pings has not run yet: run it while lab trace is counting.';
            const received = Number(after) - Number(before);
            if (Math.abs(Number(answer) - received) <= TOLERANCE) return true;
            return `You counted ${answer || 'nothing'}, but veth-b received ${received} packets while send-pings ran. Was the trace counting during the whole run, and did you take the line for veth-b?`;
          },
        },
      ],
      hint: 'lab trace receive 20 prints one line per device when it ends, such as @packets[veth-b]: 14. Start it in the lab tab, run send-pings in the red tab within those 20 seconds, then wait for the trace to finish (or press Ctrl+C).',
      solution: sh`
        lab trace receive 6 > /tmp/counts.txt &
        tracer=$!
        for attempt in $(seq 100); do grep -q Tracing /tmp/counts.txt && break; sleep 0.1; done
        send-pings
        wait $tracer
        grep '@packets\\[veth-b\\]' /tmp/counts.txt | awk '{ print $2 }' > ${ANSWER}
        cat ${ANSWER}`,
    },
  ],
});
