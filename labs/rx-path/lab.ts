import { defineLab, sh, type CommandOutput } from '../define-lab.ts';

const ANSWER = '/root/answer.txt';
const TOLERANCE = 2;

// Everything the checker compares, as key=value lines.
const readState = sh`
  echo "answer=$(head -c 40 ${ANSWER} 2>/dev/null | tr -d '\\n')"
  echo "before=$(cat /root/.rx-before 2>/dev/null)"
  echo "after=$(cat /root/.rx-after 2>/dev/null)"
  echo "iface=$(cat /root/iface)"`;

function stateOf(out: CommandOutput) {
  return Object.fromEntries(out.stdout.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]));
}

export default defineLab({
  id: 'rx-path',
  title: 'Watch the receive path',
  requires: ['netns', 'veth', 'tracepoints', 'bpf'],
  hosts: ['red', 'blue'],
  files: true,
  // Tracepoints see every packet of the whole machine, other learners' sandboxes included, so
  // blue's interface gets a name of its own (rx-<4 hex digits>) that no other sandbox shares.
  // IPv6 is off so that no router or neighbour solicitation slips into the count.
  setup: sh`
    iface=rx-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \\n')
    echo "$iface" > /root/iface
    ip netns add red
    ip netns add blue
    for ns in red blue; do
      ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip -n $ns link set lo up
    done
    ip link add veth-r netns red type veth peer name "$iface" netns blue
    ip -n red addr add 10.0.0.1/24 dev veth-r
    ip -n blue addr add 10.0.0.2/24 dev "$iface"
    ip -n red link set veth-r up
    ip -n blue link set "$iface" up
    install -m 755 /root/send-pings /usr/local/bin/send-pings`,
  exercises: [
    {
      id: 'count-receives',
      title: 'Count what blue receives, with a tracepoint',
      task: sh`
        Every packet the stack receives passes the tracepoint \`net:netif_receive_skb\`, which
        carries the name of the device it arrived on. Blue's end of the cable has a name of its own,
        in \`/root/iface\`. In the *lab* tab, run bpftrace to count
        \`tracepoint:net:netif_receive_skb\` events per device name; while it counts, run
        \`send-pings\` (it sends a number of pings you do not know in advance); then stop bpftrace
        with Ctrl+C and write the count it printed for blue's interface into \`${ANSWER}\`, as a
        bare number.`,
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
          name: "the number is what blue's interface received while send-pings ran",
          run: readState,
          pass: (out) => {
            const { answer, before, after, iface } = stateOf(out);
            if (!before || !after) return 'send-pings has not run yet: run it while bpftrace is counting.';
            const received = Number(after) - Number(before);
            if (Math.abs(Number(answer) - received) <= TOLERANCE) return true;
            return `You counted ${answer || 'nothing'}, but ${iface} received ${received} packets while send-pings ran. Was bpftrace counting during the whole run, and did you take the line for ${iface}?`;
          },
        },
      ],
      hint: "bpftrace -e 'tracepoint:net:netif_receive_skb { @[str(args->name)] = count(); }' prints one line per device when you stop it with Ctrl+C. Start it in the lab tab, run send-pings in another tab (red, for example), then stop bpftrace.",
      solution: sh`
        iface=$(cat /root/iface)
        bpftrace -e 'BEGIN { printf("counting\\n"); } tracepoint:net:netif_receive_skb { @[str(args->name)] = count(); }' > /tmp/counts.txt 2>/dev/null &
        tracer=$!
        until grep -q counting /tmp/counts.txt; do sleep 0.1; done
        send-pings
        kill -INT $tracer
        wait $tracer || true
        grep "@\\[$iface\\]" /tmp/counts.txt | awk '{ print $2 }' > ${ANSWER}
        cat ${ANSWER}`,
    },
  ],
});
