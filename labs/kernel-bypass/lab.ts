import { COMPILE } from '../bpf.ts';
import { defineLab, sh } from '../define-lab.ts';
import { hostsAroundASwitch } from '../namespaces.ts';
import { PIN_DIR, PROG, MAP, SCRIPT, XSK_LOG, TESTPMD_SECONDS, switchState, noOtherPath, noOtherPathName, noOtherPathReason } from './switch.ts';
import { scriptState, checkScript, testpmdRun, checkTestpmd } from './testpmd-checks.ts';
import { pinned, checkPinned, attached, checkAttached, forwarder, checkForwarder, xskCrossing, checkXskCrossing } from './af-xdp-checks.ts';

// Kernel bypass, compared: the two-port switch of xdp-redirect, with the forwarding done in userspace,
// once by DPDK's testpmd and once by an AF_XDP program in C.
//   left  eth0 10.0.0.1/24 ── port-left ┐
//                                        switch: no bridge, no address, ip_forward 0
//   right eth0 10.0.0.2/24 ── port-right ┘
//
// What runs here, and what does not (kernel 6.18, Debian 13's DPDK 24.11 and libxdp 1.5, in the
// user-namespace sandbox):
// - testpmd's net_af_packet ports work: packet_create() in net/packet/af_packet.c asks for CAP_NET_RAW
//   in the user namespace owning the network namespace (ns_capable(net->user_ns, …)), which root in
//   the sandbox holds. Without hugepages (there are none) EAL needs --no-huge, and then
//   --total-num-mbufs: its default, 155,456 mbufs, does not fit in -m 32 ("Creation of mbuf pool for
//   socket 0 failed: Cannot allocate memory").
// - AF_XDP sockets work, copy mode only (a veth has no zero-copy): xsk_create() in net/xdp/xsk.c asks
//   for the same namespaced CAP_NET_RAW, and the XDP program and its xskmap are loaded through the
//   sandbox's BPF token like every XDP program of the course.
// - DPDK's net_af_xdp does not: its UMEM is the whole mbuf pool, about 4 KiB of it per mbuf here
//   (1,536 mbufs fit in 8 MiB, 1,800 did not fit in 7), and each port puts 2,048 mbufs in its fill
//   ring, so even one port needs more than 8 MiB, two over 16. A UMEM is pinned memory, and xdp_umem_account_pages() in net/xdp/xdp_umem.c charges it to
//   RLIMIT_MEMLOCK unless capable(CAP_IPC_LOCK), a check against the host's user namespace that
//   sandbox root fails. The limit is 8 MiB and root inside cannot raise it (prlimit needs
//   CAP_SYS_RESOURCE there too). Measured: "Failed to create umem [105]: No buffer space available"
//   from 1,800 mbufs up, "Failed to get enough buffers for fq" below.
// - The charge goes to the host user's locked_vm (struct user_struct, one per host uid), and every
//   sandbox's root is the same host uid: the 8 MiB are shared by all sandboxes on the machine. So
//   xsk_fwd pins 2 x 512 KiB, and says so when the budget is spent (ENOBUFS).
//
// Limits it runs within (the sandbox's: 1 CPU of quota, 512 MiB, 256 pids; the self-test's 256 MiB),
// measured with the reference solutions:
// - testpmd with -m 32 and 2,048 mbufs: 41 MB resident, the sandbox's memory use peaks 24 MiB higher
//   than before it started; its forwarding core spins whether packets come or not: 2.0 s of CPU per
//   2 s idle, the sandbox's whole quota. Hence `timeout -s INT` around it, always.
// - xsk_fwd: 3 MB resident plus its 1 MiB of UMEM; 0 s of CPU while idle (it sleeps in poll()).
//
// CPU per forwarder, measured in this sandbox over 2 s of a 58,600 packet/s UDP stream from left to
// right (iperf3 -u -b 30M -l 64): the sandbox cgroup's cpuacct.usage, sender and receiver included,
// median of 3 runs, and the forwarder's own utime+stime from /proc/<pid>/stat. Softirq work runs in
// the context of whichever task raised it (the sender), so the cgroup's figure includes it.
//   direct veth between two namespaces, no forwarder   0.80 s
//   Linux bridge in the switch                          0.88 s
//   XDP redirect through a devmap (xdp-redirect)        0.87 s  no process: softirq on the sender's CPU
//   AF_XDP, xsk_fwd                                     1.12 s  of which xsk_fwd 0.30 s
//   testpmd, net_af_packet                              2.00 s  the whole quota, testpmd 1.37 s; 30 % of
//                                                               the datagrams lost to throttling
// TCP throughput, iperf3 for 4 s: direct 7.0 Gbit/s, XDP redirect 6.1, bridge 5.8, AF_XDP 2.1, testpmd 2.0.

// The measurements above, as the tasks state them (one line: the page joins a paragraph's lines).
const CPU_FIGURES =
  'a direct veth between two namespaces, no forwarder, 0.80 s; a Linux bridge in the switch, 0.88 s; ' +
  'the XDP redirect of "Redirect between two ports", 0.87 s, and no process at all: its work runs in softirq, on the sender\'s CPU; ' +
  'AF_XDP with xsk_fwd, 1.12 s, of which xsk_fwd itself 0.30 s; ' +
  'testpmd, 2.00 s, the whole quota, of which testpmd 1.37 s, and 30 % of the datagrams were lost because the sandbox was throttled';

export default defineLab({
  id: 'kernel-bypass',
  title: 'Kernel bypass, compared',
  requires: ['netns', 'veth', 'xdp', 'bpf'],
  hosts: ['left', 'switch', 'right'],
  files: true,
  // Checksum offload off on the hosts: a TCP segment leaves a veth with its checksum still to be
  // computed, and neither a packet socket (testpmd) nor an AF_XDP copy carries that note along, so
  // the receiver would find it wrong (TcpInCsumErrors). TSO off: testpmd's 2 KiB mbufs cannot hold
  // the 64 KiB segments a veth sends to a packet socket otherwise.
  setup: hostsAroundASwitch('tso off tx off'),
  counters: [
    { kind: 'link', namespace: 'switch', device: 'port-left' },
    { kind: 'link', namespace: 'switch', device: 'port-right' },
    { kind: 'xdp', namespace: 'switch', device: 'port-left' },
  ],
  exercises: [
    {
      id: 'forward-with-testpmd',
      title: 'Forward between two ports with DPDK\'s testpmd',
      task: sh`
        The switch of "Redirect between two ports" is back: left (10.0.0.1) and right (10.0.0.2) each
        reach a port of the switch namespace, port-left and port-right, and the switch has no
        bridge, no address and no routing. This time a program in userspace forwards: first DPDK's
        testpmd, then (next exercise) an AF_XDP forwarder in C.

        DPDK is made to drive a network card itself. Usually the port is bound to vfio-pci: the
        card's registers and DMA rings are mapped into the process, whose poll-mode driver reads
        them in a loop, and the kernel never sees a packet. (A few drivers, mlx5's for NVIDIA
        cards, are bifurcated instead: the kernel keeps the port and its netdev, and DPDK drives
        queues of its own on it.) A sandbox can have none of that (no card, no IOMMU, no
        hugepages, and root here cannot bind a driver), so testpmd takes the ports through its
        AF_PACKET driver, net_af_packet: a packet socket per port, the kernel's receive path up to
        the packet tap, then a copy into testpmd's ring. Same program, same polling, no bypass.

        Finish \`/root/dpdk-forward.sh\`: it runs testpmd in the switch namespace for as many seconds
        as its first argument says. Replace the two TODO lines.

        EAL options: \`-l 0-1\` (core 0 runs the main thread, core 1 forwards), \`--no-huge\`
        (ordinary memory instead of hugepages) with \`-m 32\` (MiB of it), \`--no-pci\` (nothing to
        probe), and the two ports: \`--vdev=net_af_packet0,iface=port-left\` and
        \`--vdev=net_af_packet1,iface=port-right\`.

        After \`--\`, testpmd's own options: \`--forward-mode=io\` (what comes in on one port leaves by
        the other, untouched), \`--total-num-mbufs=2048\` (its default, 155,456 packet buffers, does
        not fit in 32 MiB) and \`--stats-period 1\` (print the counters every second; without it
        testpmd waits for Enter, and the script's standard input is /dev/null).

        Run it (\`bash dpdk-forward.sh 20\`) and ping right from left in another tab (\`ping
        10.0.0.2\` in left). In a third, \`top -H\` shows the thread dpdk-worker1 at 100 % whether
        pings flow or not: its forwarding loop polls and never sleeps (a DPDK application can
        choose to sleep on a queue's receive interrupt, with drivers that have one; this one
        polls). That is why the script runs it under
        \`timeout -s INT\`, which stops it as Ctrl-C would (it prints its forward statistics, then
        exits). TCP works too (\`iperf3\`): setup turned checksum offload and TSO off on the hosts'
        eth0, because a packet socket passes on neither a checksum still to compute nor a 64 KiB
        segment that a 2 KiB mbuf could hold.

        The checker pings once (it must fail: nothing else forwards), runs \`bash
        /root/dpdk-forward.sh ${TESTPMD_SECONDS}\`, pings a few times while testpmd runs, and reads
        testpmd's forward statistics.

        The cost, measured in this sandbox: 1 CPU of quota, 512 MiB of memory (this testpmd is 41 MB
        resident). CPU used by the whole sandbox, sender and receiver included, over 2 s of a
        58,600 packet/s UDP stream from left to right: ${CPU_FIGURES}. Idle, testpmd still takes
        2.0 s of CPU every 2 s. DPDK's AF_XDP driver (net_af_xdp) does not run here at all: its
        UMEM is its whole mbuf pool, over 16 MiB for two ports, and the kernel charges pinned UMEM
        memory to a locked-memory limit of 8 MiB that root in a sandbox cannot raise ("Failed to
        create umem: No buffer space available").`,
      checks: [
        { name: noOtherPathName(', no XDP program on the ports'), run: switchState, pass: noOtherPath({ xdpAllowed: false }) },
        { name: `${SCRIPT} has its options filled in and keeps testpmd under timeout`, run: scriptState, pass: checkScript },
        {
          name: 'pings from left reach right through testpmd, and only while it runs',
          run: testpmdRun,
          pass: checkTestpmd,
          timeoutMs: 60_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [noOtherPathName(', no XDP program on the ports')]: noOtherPathReason,
      },
      hint: sh`
        The two lines, in full:
        \`-l 0-1 --no-huge --no-pci -m 32 --vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right \\\`
        and \`-- --forward-mode=io --total-num-mbufs=2048 --stats-period 1 \\\` (keep the backslashes
        that continue the command). If testpmd stops at once, read its first error: "Cannot get
        hugepage information" wants --no-huge, "Creation of mbuf pool … failed" wants fewer mbufs,
        "No probed ethernet devices" wants the --vdev options, "No such device" an iface that exists
        in the switch. \`ip netns exec switch ethtool -S port-left\` or \`ip -n switch -s link\` show
        the ports' own counters moving while testpmd runs.`,
      solution: sh`
        cat > ${SCRIPT} <<'EOF'
        #!/bin/bash
        seconds=\${1:-10}
        ip netns exec switch timeout -s INT "$seconds" dpdk-testpmd \\
        	-l 0-1 --no-huge --no-pci -m 32 \\
        	--vdev=net_af_packet0,iface=port-left --vdev=net_af_packet1,iface=port-right \\
        	-- --forward-mode=io --total-num-mbufs=2048 --stats-period 1 \\
        	</dev/null
        EOF
        bash ${SCRIPT} 3 > /tmp/testpmd.log 2>&1 &
        sleep 1
        ip netns exec left ping -c 3 -i 0.2 10.0.0.2
        wait
        grep -A 3 'Forward statistics for port' /tmp/testpmd.log`,
    },
    {
      id: 'forward-with-af-xdp',
      title: 'Forward between two ports with AF_XDP',
      task: sh`
        Same switch, another way out of the kernel: an AF_XDP socket. An XDP program on each port
        redirects every frame, through an xskmap, to a socket bound to that port; the kernel copies
        the frame into the socket's UMEM (memory the program registered and shares with the kernel)
        and puts a descriptor on the socket's RX ring. The program reads the ring, and sends by
        putting descriptors on a TX ring. On a veth that is copy mode, the only one there is
        (zero-copy needs a driver that DMAs into the UMEM itself).

        Two files in /root do it: \`xsk_redirect.c\`, the XDP half, and \`xsk_fwd.c\`, the userspace
        half, complete: it registers a 512 KiB UMEM per port, binds a socket to each port's queue 0,
        writes each socket into the pinned xskmap under its port's ifindex, then sleeps in poll()
        and copies whatever one port receives onto the other's TX ring. Read its \`forward()\`.

        1. Finish \`xsk_redirect.c\` (one line: as in "Redirect between two ports", with an xskmap
        instead of a devmap and XDP_PASS when no socket is there) and compile it:
        \`${COMPILE} -c xsk_redirect.c -o xsk_redirect.o\`.

        2. Load it, pinning it and its xskmap in ${PIN_DIR}: \`mkdir -p ${PIN_DIR}\`, then
        \`bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}\`.

        3. Attach it natively to both ports: \`ip -n switch link set dev port-left xdp pinned ${PROG}\`,
        then port-right.

        4. Build the forwarder, \`gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf\`, and start it in
        the switch, in the background: \`ip netns exec switch ./xsk_fwd port-left port-right >
        ${XSK_LOG} 2>&1 &\`. Ping right from left: xsk_fwd's log counts the frames.

        Now compare with testpmd: \`top\` shows xsk_fwd at 0 % while nothing flows, since it sleeps
        in poll() until a frame arrives. The cost of a frame is higher than with XDP alone: a copy
        into the UMEM, a wake-up, a copy between UMEMs, a sendto() that builds an sk_buff again.
        Measured in this sandbox (1 CPU of quota, 512 MiB; xsk_fwd is 3 MB resident plus its 1 MiB
        of pinned UMEM), CPU used by the whole sandbox over 2 s of a 58,600 packet/s UDP stream:
        ${CPU_FIGURES}; and TCP (iperf3): direct 7.0 Gbit/s, XDP redirect 6.1, bridge 5.8, AF_XDP
        2.1, testpmd 2.0.

        The UMEM is pinned memory, charged to the locked-memory limit (\`ulimit -l\`: 8 MiB) of the host
        user that root in every sandbox is, so all sandboxes on this machine share those 8 MiB: keep
        UMEMs small. The checker pings right from left a few times and expects the XDP programs on
        both ports to have redirected each request and each reply into xsk_fwd's sockets
        (rx_queue_0_xdp_redirect in \`ip netns exec switch ethtool -S port-left\`).`,
      checks: [
        { name: `the XDP program and its xskmap are pinned at ${PROG} and ${MAP}`, run: pinned, pass: checkPinned },
        { name: 'the pinned program is attached natively to port-left and port-right', run: attached, pass: checkAttached },
        { name: 'xsk_fwd runs in the switch namespace', run: forwarder, pass: checkForwarder },
        { name: noOtherPathName(''), run: switchState, pass: noOtherPath({ xdpAllowed: true }) },
        {
          name: 'pings from left reach right through xsk_fwd\'s AF_XDP sockets',
          run: xskCrossing,
          pass: checkXskCrossing,
          timeoutMs: 15_000,
          live: false,
        },
      ],
      initiallyPassing: {
        [noOtherPathName('')]: noOtherPathReason,
      },
      hint: sh`
        The line: \`return bpf_redirect_map(&xsks, ctx->ingress_ifindex, XDP_PASS);\`. xsk_fwd writes
        each socket under its port's ifindex, and a socket only takes frames from the device and
        queue it is bound to, so the key must be the port the frame came in on. If xsk_fwd stops at
        once, its log says why: "writing the socket into the xskmap" means the map is not at ${MAP},
        "No buffer space available" that the machine's locked-memory budget is spent for now.
        Changed the program? Stop xsk_fwd (\`pkill -x xsk_fwd\`), detach
        (\`ip -n switch link set dev port-left xdp off\`, both ports), \`rm -r ${PIN_DIR}\`, and load,
        attach and start again.`,
      solution: sh`
        cd /root
        sed -i 's|return XDP_PASS; // TODO.*|return bpf_redirect_map(\\&xsks, ctx->ingress_ifindex, XDP_PASS);|' xsk_redirect.c
        ${COMPILE} -c xsk_redirect.c -o xsk_redirect.o
        mkdir -p ${PIN_DIR}
        bpftool prog load xsk_redirect.o ${PROG} type xdp pinmaps ${PIN_DIR}
        ip -n switch link set dev port-left xdp pinned ${PROG}
        ip -n switch link set dev port-right xdp pinned ${PROG}
        gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf
        ip netns exec switch setsid ./xsk_fwd port-left port-right </dev/null >${XSK_LOG} 2>&1 &
        sleep 0.5
        ip netns exec left ping -c 3 -i 0.2 10.0.0.2
        sleep 1
        cat ${XSK_LOG}`,
    },
  ],
});
