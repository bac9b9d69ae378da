import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import { checkTool } from '../check-tools.ts';
import { redAndBlue } from '../namespaces.ts';

const PORT = 9000;
const ENOUGH_BYTES = 4 * 1024 * 1024;
const BURST_ARGUMENTS = '10.0.0.2 9000 1000 512';
const BURST = `udp-burst ${BURST_ARGUMENTS}`;
const udpBurst = checkTool('udp-overflow', 'udp-burst.c');
const receiverSocket = `ip netns exec blue ss -Huamn 'sport = :${PORT}'`;
// Blue's own count of datagrams dropped because a socket's receive queue was full.
const rcvbufErrors = `ip netns exec blue awk '/^Udp:/ { if (!seen++) { for (i = 2; i <= NF; i++) column[$i] = i } else print $column["RcvbufErrors"] }' /proc/net/snmp`;

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

function checkBufferSize(out: CommandOutput) {
  if (!out.stdout.trim()) return `Nothing is bound to UDP port ${PORT} in blue: start the receiver again.`;
  const size = Number(out.stdout.match(/\brb(\d+)/)?.[1]);
  return size >= ENOUGH_BYTES || `The receiver's buffer holds ${kib(size)} (ss shows rb${size}); a burst needs at least ${kib(ENOUGH_BYTES)}.`;
}

export default defineLab({
  id: 'udp-overflow',
  title: 'A receive queue that overflows',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  files: true,
  traces: ['drops'],
  // The slow receiver is running from the start so that the learner can watch it drop a burst
  // before fixing it.
  setup: sh`
    ${redAndBlue}
    gcc -O2 -o /usr/local/bin/udp-receiver /root/udp-receiver.c
    gcc -O2 -o /usr/local/bin/udp-burst /root/udp-burst.c
    ip netns exec blue setsid udp-receiver ${PORT} 4096 </dev/null >>/root/receiver.log 2>&1 &
    until ip netns exec blue ss -Huln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done`,
  exercises: [
    {
      id: 'fix-receive-buffer',
      title: 'Lose nothing from a burst',
      task: sh`
        In blue, \`udp-receiver ${PORT} 4096\` reads UDP port ${PORT} slowly, having asked for a
        4096-byte socket receive buffer (its source is in /root; the kernel doubles what a program
        asks for, so \`ss\` shows rb8192). From red, \`${BURST}\` sends 1000 datagrams
        in a few milliseconds. Send a burst and watch blue's \`RcvbufErrors\` counter in
        \`/proc/net/snmp\` (or \`nstat -az UdpRcvbufErrors\`) rise, and \`ss -uamn\` show the socket's
        buffer (\`rb\`); \`lab trace drops\` during a burst shows the reason the kernel gives for each
        drop. Then restart the receiver with a buffer large enough that a burst loses nothing.`,
      checks: [
        {
          name: `a receiver is bound to UDP port ${PORT} in blue`,
          run: receiverSocket,
          pass: (out) => out.stdout.trim() !== '' || `Nothing is bound to UDP port ${PORT} in blue: start \`udp-receiver ${PORT} <bytes>\` inside blue.`,
        },
        { name: `its receive buffer holds at least ${kib(ENOUGH_BYTES)}`, run: receiverSocket, pass: checkBufferSize },
        {
          name: 'a burst of 1000 datagrams from red loses none',
          run: sh`
            ${receiverSocket} | grep -q . || exit 3
            ${udpBurst.build}
            before=$(${rcvbufErrors})
            ip netns exec red ${udpBurst.run} ${BURST_ARGUMENTS} >/dev/null
            sleep 0.3
            echo $(( $(${rcvbufErrors}) - before ))`,
          pass: (out) => {
            if (out.exitCode === 3) return `Nothing is bound to UDP port ${PORT} in blue: there is no queue to fill.`;
            const dropped = Number(out.stdout.trim());
            return dropped === 0 || `The checker's burst overflowed the queue: RcvbufErrors in blue rose by ${dropped}.`;
          },
          live: false,
        },
      ],
      initiallyPassing: { [`a receiver is bound to UDP port ${PORT} in blue`]: 'the setup starts the slow receiver so the learner can watch it drop datagrams' },
      hint: `Stop the running receiver (\`pkill udp-receiver\`), then start it again inside blue with a bigger buffer, in the background: \`ip netns exec blue udp-receiver ${PORT} 4194304 &\`. Compare \`rb\` in \`ss -uamn\` before and after: the kernel doubles what a program asks for.`,
      solution: sh`
        ip netns exec red ${BURST}
        ${rcvbufErrors}
        pkill -x udp-receiver
        while ip netns exec blue ss -Huln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done
        ip netns exec blue setsid udp-receiver ${PORT} 4194304 </dev/null >/root/receiver.log 2>&1 &
        until ip netns exec blue ss -Huln 'sport = :${PORT}' | grep -q .; do sleep 0.05; done
        ip netns exec blue ss -uamn`,
    },
  ],
});
