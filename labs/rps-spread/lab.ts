import { defineLab, sh, type CommandOutput } from '../define-lab.ts';

// What the checker sends: connection attempts from red to a closed port of blue, one SYN that
// blue receives on veth-b and one RST back each, the next starting only when the RST is in.
const ATTEMPTS = 2000;
// How much CPU 1's counters must rise: nearly every SYN processed there, and 60% of them handed
// over by an interrupt from CPU 0 (why not all: see the check).
const PROCESSED = Math.round(ATTEMPTS * 0.9);
const HANDED_OVER = Math.round(ATTEMPTS * 0.6);
const TARGET_MASK = 2n; // CPU 1 alone

// /proc/net/softnet_stat has one row per CPU, 15 hexadecimal columns (softnet_seq_show() in
// net/core/net-procfs.c): 1 processed (packets this CPU passed up the stack), 10 received_rps (the
// times another CPU woke this one by an inter-processor interrupt to hand it RPS work), 13 the CPU
// number. This prints CPU 1's processed and received_rps.
const cpu1Counters = 'while read -r processed x x x x x x x x rps x x cpu x; do [ $((16#$cpu)) = 1 ] && echo $((16#$processed)) $((16#$rps)); done < /proc/net/softnet_stat';

// The CPUs a hexadecimal mask names ("3" → "CPUs 0, 1"), for messages.
function cpusOf(mask: bigint) {
  const cpus = [...mask.toString(2)].reverse().flatMap((bit, cpu) => (bit === '1' ? [cpu] : []));
  if (cpus.length === 0) return 'no CPU: RPS is off for it';
  return cpus.length === 1 ? `CPU ${cpus[0]}` : `CPUs ${cpus.join(', ')}`;
}

function checkMasks(out: CommandOutput) {
  if (out.exitCode !== 0 || !out.stdout.trim()) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  const wrong = out.stdout.trim().split('\n').flatMap((line) => {
    const [queue, text] = line.trim().split(/\s+/);
    const mask = BigInt(`0x${(text ?? '0').replaceAll(',', '') || '0'}`);
    return mask === TARGET_MASK ? [] : [`${queue} has ${text} (${cpusOf(mask)})`];
  });
  if (wrong.length === 0) return true;
  return `Not every receive queue of veth-b sends its packets to CPU 1 alone: ${wrong.join('; ')}. Each queue has its own mask, and a packet follows the mask of the queue it arrived on.`;
}

function checkSteering(out: CommandOutput) {
  if (out.exitCode === 3) return 'Red cannot ping blue (10.0.0.2), so the checker cannot send its traffic: press Reset if the link is broken.';
  if (out.exitCode === 4) return 'The checker\'s connection attempts from red to 10.0.0.2 got no answer within 5 seconds: something in blue drops them.';
  const [processed, rps] = out.stdout.trim().split('\n').pop()!.split(' ').map(Number);
  if (processed >= PROCESSED && rps >= HANDED_OVER) return true;
  const seen = `The checker made ${ATTEMPTS} connection attempts from red, from CPU 0. Meanwhile CPU 1 was handed work by another CPU ${rps} times (received_rps, column 10 of softnet_stat; ${HANDED_OVER} expected at least) and processed ${processed} packets (column 1, where the rest of the machine's traffic counts too; ${PROCESSED} at least).`;
  if (rps < ATTEMPTS * 0.1) return `${seen} RPS is not sending blue's packets to CPU 1: check the masks of veth-b's receive queues.`;
  return `${seen} Only part of them reached CPU 1 by an interrupt: either the others arrived on receive queues of veth-b whose mask is not CPU 1 alone, or other learners' traffic kept CPU 1 so busy that it took them without one (then check again).`;
}

export default defineLab({
  id: 'rps-spread',
  title: 'Spread receive work with RPS',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'softnet', columns: ['processed', 'received_rps'] },
    { kind: 'link', namespace: 'blue', device: 'veth-b' },
  ],
  // red and blue as in labs/namespaces.ts, but the veth pair has four queues each way.
  setup: sh`
    ip netns add red
    ip netns add blue
    ip link add veth-r numrxqueues 4 numtxqueues 4 netns red type veth peer name veth-b numrxqueues 4 numtxqueues 4 netns blue
    ip -n red addr add 10.0.0.1/24 dev veth-r
    ip -n blue addr add 10.0.0.2/24 dev veth-b
    ip -n red link set veth-r up
    ip -n blue link set veth-b up
    ip -n red link set lo up
    ip -n blue link set lo up`,
  exercises: [
    {
      id: 'steer-to-cpu1',
      title: 'Send blue\'s receive work to CPU 1',
      task: sh`
        Red and blue are joined by a veth pair with four queues each way. Without RPS, veth hands
        each packet to the receive path of the CPU that sent it. RPS (Receive Packet Steering)
        lets you choose: each receive queue has a CPU mask in hexadecimal,
        \`/sys/class/net/veth-b/queues/rx-N/rps_cpus\` (1 is CPU 0, 2 is CPU 1, 3 both), and the
        kernel hands every packet that arrives on the queue to a CPU of its mask, picked by a hash
        of the packet's flow. Make CPU 1, and only CPU 1, do all of blue's receive work: set the
        mask of every receive queue of veth-b. Writing the file yourself fails even as root
        ("Operation not permitted"), because store_rps_map() in net/core/net-sysfs.c asks for
        CAP_NET_ADMIN in the host's user namespace, which your sandbox's root does not hold: ask
        the server with \`lab set <path> <value>\`, run in the namespace the device is in
        (\`ip netns exec blue lab set …\`, or in the blue tab). To see the effect, watch
        \`/proc/net/softnet_stat\` while red sends to blue: one row per CPU, column 1 counts the
        packets it processed, column 10 the times another CPU handed it RPS work, column 13 is
        the CPU's number. It counts the whole machine, other learners included.`,
      checks: [
        {
          name: 'every receive queue of veth-b steers to CPU 1 alone',
          run: 'ip netns exec blue sh -c \'cd /sys/class/net/veth-b/queues && for q in rx-*; do echo "$q $(cat $q/rps_cpus)"; done\'',
          pass: checkMasks,
        },
        {
          // The checker's own traffic, judged by CPU 1's counters in /proc/net/softnet_stat, which
          // every sandbox and the host add to. The check only asks whether CPU 1's counters rose
          // by at least about what the checker sent, never that anything stayed still, so other
          // traffic adding to them cannot fail it.
          //
          // processed counts packets, received_rps counts interrupts. The kernel interrupts CPU 1
          // only from another CPU (napi_schedule_rps() in net/core/dev.c), so the sender is pinned
          // to CPU 0; and only when CPU 1's backlog is idle (enqueue_to_backlog()), so the sender
          // waits for each answer before the next attempt, and on a quiet machine every SYN costs
          // one interrupt: received_rps rises by 2000. That is the one way other traffic can hold
          // the check back: when it keeps CPU 1's backlog busy, CPU 1 takes the checker's SYNs in
          // the same run, without an interrupt. Measured on this 2-CPU machine with another
          // sandbox's iperf3 running, 39% to 99% of the SYNs still came with one (more than 60% in
          // 23 runs out of 25). Hence 60% is asked, and five tries. Without RPS the count stays
          // near 0 (other learners' traffic rarely uses RPS); a mask on rx-0 alone gives about 50%
          // (see below), and the mask check above catches it anyway.
          //
          // Connection attempts rather than pings because each new TCP socket picks a random
          // transmit queue on red's veth-r (a random sk_txhash), and a veth without NAPI (GRO off,
          // no XDP) passes skb->queue_mapping on unchanged: get_rps_cpu() reads a non-zero value
          // as "received on queue value-1", so red's tx-0 and tx-1 land on rx-0, tx-2 on rx-1,
          // tx-3 on rx-2 (rx-3 is never used). Pings all take one queue.
          name: `${ATTEMPTS} connections from red are received on CPU 1, handed over by RPS`,
          run: sh`
            ip netns exec red ping -c 1 -W 1 10.0.0.2 >/dev/null || exit 3
            cpu1() { ${cpu1Counters}; }
            for attempt in 1 2 3 4 5; do
              read -r processed rps < <(cpu1)
              ip netns exec red timeout 5 taskset -c 0 bash -c 'for i in $(seq ${ATTEMPTS}); do : <>/dev/tcp/10.0.0.2/9; done' 2>/dev/null
              [ $? = 124 ] && exit 4
              read -r processed_after rps_after < <(cpu1)
              processed=$(( (processed_after - processed) & 0xffffffff ))
              rps=$(( (rps_after - rps) & 0xffffffff ))
              echo "$processed $rps"
              [ $processed -ge ${PROCESSED} ] && [ $rps -ge ${HANDED_OVER} ] && break
              sleep 0.2
            done
            true`,
          pass: checkSteering,
          timeoutMs: 20_000,
          live: false,
        },
      ],
      hint: 'Set the mask to 2 (CPU 1) on each of veth-b\'s four queues, from blue: `for q in 0 1 2 3; do ip netns exec blue lab set /sys/class/net/veth-b/queues/rx-$q/rps_cpus 2; done`, then read them back with `cat`. Why every queue: each connection\'s packets arrive on one of veth-b\'s receive queues, and RPS reads only that queue\'s mask.',
      solution: sh`
        for q in 0 1 2 3; do
          ip netns exec blue lab set /sys/class/net/veth-b/queues/rx-$q/rps_cpus 2
        done
        ip netns exec blue cat /sys/class/net/veth-b/queues/rx-{0,1,2,3}/rps_cpus`,
    },
  ],
});
