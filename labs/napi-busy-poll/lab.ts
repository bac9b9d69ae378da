import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import { checkTool } from '../check-tools.ts';
import { redAndBlue } from '../namespaces.ts';

const PORT = 7000;
const EXCHANGES = 200;
// Only busy polling adds to TcpExtBusyPollRxPackets (__napi_busy_loop() in net/core/dev.c), so any
// rise proves it; a quarter of the exchanges leaves room for a loaded machine. Measured with the
// reference solution: 189 to 198 of 200, even with two busy loops running on the host.
const ENOUGH_BUSY_POLLED = EXCHANGES / 4;
const ATTEMPTS = 3;

// The server runs on CPU 1 and the checker's client on CPU 0. On a shared CPU the server could
// only poll while the client is not running, that is while nothing arrives: unpinned, the two
// usually end up together and the counter barely moves (measured: 0 to 211 of 1000 exchanges,
// against 960 or more when they are apart).
const startServer = (flags: string) =>
  `ip netns exec blue setsid taskset -c 1 udp-echo ${PORT}${flags} </dev/null >>/root/udp-echo.log 2>&1 &`;
const serverUp = `until ip netns exec blue ss -Huln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done`;

const udpPing = checkTool('napi-busy-poll', 'udp-ping.c');

const threadedFile = 'ip netns exec blue cat /sys/class/net/veth-b/threaded';

// Counters are per network namespace: the busy-poll count is charged to the namespace of the
// device whose NAPI was polled, here blue.
const busyPolled = `ip netns exec blue nstat -asz TcpExtBusyPollRxPackets | awk '/BusyPoll/ { print $2 }'`;
// veth counts these per receive queue only for packets that went through its NAPI poll.
const napiPackets = `ip netns exec blue ethtool -S veth-b | awk '/rx_queue_[0-9]+_xdp_packets/ { sum += $2 } END { print sum + 0 }'`;

// The checker's own ping-pong, retried a few times if another sandbox keeps the CPUs busy, and
// everything the verdict needs as key=value lines.
const pingPong = sh`
  pid=$(ip netns exec blue ss -Hulnp 'sport = :${PORT}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  if [ -z "$pid" ]; then echo server=none; exit 0; fi
  echo "server=$(tr '\\0' ' ' < /proc/$pid/cmdline)"
  echo "cpus=$(taskset -pc $pid | sed 's/.*: //')"
  # Either gives veth-b NAPI; an XDP program does it with GRO still reported off.
  echo "gro=$(ip netns exec blue ethtool -k veth-b | awk '/^generic-receive-offload:/ { print $2 }')"
  echo "xdp=$(ip -n blue -j link show dev veth-b | jq -r '.[0].xdp.prog.id // empty')"
  echo "tso=$(ip netns exec red ethtool -k veth-r | awk '/^tcp-segmentation-offload:/ { print $2 }')"
  ${udpPing.build}
  for attempt in $(seq ${ATTEMPTS}); do
    polled=$(${busyPolled}); napi=$(${napiPackets})
    answered=$(ip netns exec red timeout 15 taskset -c 0 ${udpPing.run} 10.0.0.2 ${PORT} ${EXCHANGES} | awk '/answered/ { print $3 }')
    polled=$(( $(${busyPolled}) - polled )); napi=$(( $(${napiPackets}) - napi ))
    echo "answered=$answered"; echo "napi=$napi"; echo "polled=$polled"
    # Worth another try only when the datagrams took the NAPI path and busy polling lost the race.
    if [ "$polled" -ge ${ENOUGH_BUSY_POLLED} ] || [ "$napi" -eq 0 ]; then break; fi
  done`;

// The last value of each key (the last attempt's).
function stateOf(out: CommandOutput) {
  const state: Record<string, string> = {};
  for (const line of out.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) state[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return state;
}

function judgeBusyPolling(out: CommandOutput) {
  const { server, cpus, gro, xdp, tso, answered, napi, polled } = stateOf(out);
  const restart = `\`pkill -x udp-echo\`, then in blue \`taskset -c 1 udp-echo ${PORT} --busy-poll 50 > /root/udp-echo.log &\``;
  if (server === 'none') return `Nothing listens on UDP port ${PORT} in blue: start the echo server again, ${restart}.`;
  if (Number(answered) < EXCHANGES * 0.9) return `Only ${answered} of the checker's ${EXCHANGES} datagrams came back from blue: is udp-echo still answering?`;
  if (Number(polled) >= ENOUGH_BUSY_POLLED) return true;
  const measured = `During the checker's ${EXCHANGES} exchanges, TcpExtBusyPollRxPackets in blue rose by ${polled}`;
  if (Number(napi) === 0) {
    if (gro !== 'on' && !xdp) return `${measured}: veth-b has no NAPI instance to poll. Turn GRO on (\`ethtool -K veth-b gro on\` in blue) or attach an XDP program to it.`;
    if (tso === 'on') return `${measured}, and none of the datagrams went through veth-b's NAPI: red's veth-r has TSO on, so veth hands them to blue's per-CPU backlog instead (veth_skb_is_eligible_for_gro() in drivers/net/veth.c). Turn it off: \`ethtool -K veth-r tso off\` in red.`;
    return `${measured}, and none of the datagrams went through veth-b's NAPI: compare \`ethtool -S veth-b\` (rx_queue_0_xdp_packets counts what NAPI delivered) before and after a ping-pong.`;
  }
  if (!server.includes('--busy-poll')) return `${measured}: the server in blue (\`${server.trim()}\`) does not busy-poll. Restart it with --busy-poll: ${restart}.`;
  if (cpus.split(',').some((range) => range.split('-')[0] === '0')) return `${measured}: udp-echo may run on CPU ${cpus}, and the checker's client runs on CPU 0. A busy poller sharing the sender's CPU only polls while the sender is not running, when nothing arrives: restart it with \`taskset -c 1\`.`;
  return `${measured}. Restart udp-echo now that veth-b is ready (${restart}): an unconnected UDP socket sets its NAPI instance only once, from the first datagrams it gets (sk_mark_napi_id_once()), so a server that got datagrams before veth-b was ready can be left with none.`;
}

export default defineLab({
  id: 'napi-busy-poll',
  title: 'Threaded NAPI and busy polling',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'snmp', namespace: 'blue', names: ['TcpExtBusyPollRxPackets'] },
    { kind: 'link', namespace: 'blue', device: 'veth-b' },
  ],
  files: true,
  setup: sh`
    ${redAndBlue}
    gcc -O2 -o /usr/local/bin/udp-echo /root/udp-echo.c
    gcc -O2 -o /usr/local/bin/udp-ping /root/udp-ping.c
    ${startServer('')}
    ${serverUp}`,
  exercises: [
    {
      id: 'thread-and-poll',
      title: 'Give veth-b a NAPI thread, then busy-poll it',
      task: sh`
        In blue, \`udp-echo ${PORT}\` sends every UDP datagram back (the setup started it on CPU 1 with
        \`taskset -c 1\`; it logs to /root/udp-echo.log). From red, \`taskset -c 0 udp-ping 10.0.0.2 ${PORT}\`
        plays 1000 rounds of ping-pong with it and prints the round-trip times. Their sources are in /root.

        First, move veth-b's receive processing from softirqs into a kernel thread: write 1 to
        \`/sys/class/net/veth-b/threaded\` in blue. The write fails with "Operation not supported":
        a veth has no NAPI instance until something needs one. Turn GRO on for veth-b with
        \`ethtool\` (an XDP program would do too), and write again. The thread, \`napi/veth-b-<id>\`,
        lives outside the sandbox's pid namespace, so \`ps\` does not show it: the file is the proof.

        Then make the server busy-poll: restart it, still on CPU 1, with \`--busy-poll 50\`, which sets
        SO_BUSY_POLL on its socket. When its queue is empty, recvfrom() then runs veth-b's NAPI poll
        itself for up to 50 µs before sleeping. Blue's \`nstat -az TcpExtBusyPollRxPackets\` counts the
        packets it picked up that way, and the server's log says which NAPI instance its datagrams came
        through. If it says none, look at how red sends: veth hands a packet to the receiving end's
        NAPI only when GRO could aggregate it, and judges that from the sending end's TSO setting.
        Compare the round-trip times before and after.

        The checker runs its own ${EXCHANGES} exchanges from red, on CPU 0, and expects blue's busy-poll
        counter to rise.`,
      checks: [
        {
          name: 'veth-b in blue runs its NAPI poll in a kernel thread',
          run: threadedFile,
          pass: (out) => {
            if (out.exitCode !== 0) return 'There is no veth-b in blue any more: press Reset to get the lab back.';
            if (out.stdout.trim() === '1') return true;
            return `/sys/class/net/veth-b/threaded reads ${out.stdout.trim()} in blue: write 1 to it. If the write says "Operation not supported", veth-b has no NAPI instance yet: turn GRO on with \`ethtool -K veth-b gro on\` first.`;
          },
        },
        {
          name: `blue's echo server busy-polls veth-b during ${EXCHANGES} exchanges from red`,
          run: pingPong,
          pass: judgeBusyPolling,
          timeoutMs: 60_000,
          live: false,
        },
      ],
      hint: sh`
        In blue: \`ethtool -K veth-b gro on\`, then \`echo 1 > /sys/class/net/veth-b/threaded\`. In red:
        \`ethtool -K veth-r tso off\`. Then restart the server, after those two, since an unconnected
        UDP socket sets its NAPI instance only once, from the first datagrams it receives:
        \`pkill -x udp-echo\`, and in blue \`taskset -c 1 udp-echo ${PORT} --busy-poll 50 > /root/udp-echo.log &\`.
        Keep it on CPU 1, away from the client on CPU 0: a busy poller that shares the sender's CPU can
        only poll while the sender is not running, which is when nothing arrives.`,
      solution: sh`
        ip netns exec blue ethtool -K veth-b gro on
        ip netns exec blue bash -c 'echo 1 > /sys/class/net/veth-b/threaded'
        ip netns exec red ethtool -K veth-r tso off
        pkill -x udp-echo
        while ip netns exec blue ss -Huln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done
        ${startServer(' --busy-poll 50')}
        ${serverUp}
        ip netns exec red taskset -c 0 udp-ping 10.0.0.2 ${PORT}
        ip netns exec blue nstat -az TcpExtBusyPollRxPackets
        cat /root/udp-echo.log`,
    },
  ],
});
