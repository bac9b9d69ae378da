import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { redAndBlue } from '../namespaces.ts';

const PORT = 9001;
const BYTES = 2_000_000;
// Packets longer than the MTU the capture must show: a 2 MB transfer gave about 120 with GRO on
// and none with it off.
const MERGED = 10;

type Features = Record<string, { active: boolean } | string>;

// `ethtool --json -k` of one device: [{ "ifname": …, "<feature>": { "active": …, … }, … }].
function features(out: CommandOutput) {
  return json<Features[]>(out)[0];
}

// The sender's TCP segmentation offloads that are on: tx-tcp-segmentation (TSO for IPv4),
// tx-tcp6-segmentation, tx-tcp-ecn-segmentation… `ethtool -K veth-r tso off` turns them all off.
const tsoStillOn = (sender: Features) =>
  Object.entries(sender).filter(([name, value]) => /^tx-tcp.*segmentation$/.test(name) && typeof value === 'object' && value.active).map(([name]) => name);

function checkGro(out: CommandOutput) {
  if (out.exitCode !== 0) return 'There is no veth-b in namespace blue any more: press Reset to get the lab back.';
  const gro = features(out)['generic-receive-offload'];
  return (typeof gro === 'object' && gro.active) || 'GRO is off on veth-b: in blue, `ethtool -k veth-b` shows generic-receive-offload: off.';
}

function checkSender(out: CommandOutput) {
  if (out.exitCode !== 0) return 'There is no veth-r in namespace red any more: press Reset to get the lab back.';
  const sender = features(out);
  const gso = sender['generic-segmentation-offload'];
  const on = [
    ...(tsoStillOn(sender).length ? [`TSO (${tsoStillOn(sender).join(', ')})`] : []),
    ...(typeof gso === 'object' && gso.active ? ['GSO (generic-segmentation-offload)'] : []),
  ];
  return on.length === 0 || `red's veth-r still has ${on.join(' and ')} on.`;
}

function checkCapture(out: CommandOutput) {
  if (out.exitCode === 3) return 'There is no veth-b in blue or veth-r in red any more: press Reset to get the lab back.';
  if (out.exitCode === 4) {
    return `red's veth-r still has TSO on (${out.stdout.trim().split(/\s+/).join(', ')}): red's TCP then hands the veth packets of up to 64 KB itself, veth keeps them off its GRO path, and a capture cannot tell GRO's work from TSO's. Turn TSO off on veth-r first.`;
  }
  const result = Object.fromEntries(out.stdout.trim().split('\n').pop()!.split(' ').map((field) => field.split('=')));
  const [mtu, packets, biggest, merged] = [result.mtu, result.packets, result.biggest, result.merged].map(Number);
  if (!packets) return `The checker's ${BYTES / 1e6} MB TCP transfer from red to blue port ${PORT} did not get through: is something in blue using port ${PORT}, or dropping TCP?`;
  if (merged >= MERGED) return true;
  return `The capture on veth-b holds ${packets} packets of the checker's ${BYTES / 1e6} MB transfer; ${merged} of them were longer than veth-b's MTU (${mtu} bytes), the biggest ${biggest} bytes. With GRO on, blue should receive merged packets of many kilobytes.`;
}

export default defineLab({
  id: 'gro-merge',
  title: 'GRO: fewer, bigger packets',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  counters: [
    { kind: 'link', namespace: 'blue', device: 'veth-b', stats: ['rx_packets', 'rx_bytes'] },
    { kind: 'link', namespace: 'red', device: 'veth-r', stats: ['tx_packets', 'tx_bytes'] },
  ],
  setup: redAndBlue,
  exercises: [
    {
      id: 'merge-on-receive',
      title: 'Let blue merge what red sends',
      task: sh`
        GRO (Generic Receive Offload) merges consecutive TCP segments of one connection, as they
        are received, into one bigger packet, so that the rest of the receive path handles fewer,
        bigger packets. On veth it is off by default. Turn it on for veth-b in blue, with ethtool.
        Red's veth-r starts with TSO and GSO on. With TSO on, red's TCP builds packets of up to
        64 KB, and veth passes each across whole (keeping it off its GRO path); with GSO on, red's
        TCP still builds them, and the kernel cuts them into MTU-sized segments just before
        veth-r. Turn both off on veth-r, so that red's TCP itself builds segments that fit the
        1500-byte MTU, and any bigger packet blue receives was merged by blue. Then look: capture
        on veth-b in blue with tcpdump while red sends a few megabytes to blue with \`nc\`, and
        compare the packets' lengths with GRO on and off.`,
      checks: [
        { name: 'GRO is on for veth-b in blue', run: 'ip netns exec blue ethtool --json -k veth-b', pass: checkGro },
        { name: 'TSO and GSO are off on red\'s veth-r', run: 'ip netns exec red ethtool --json -k veth-r', pass: checkSender },
        {
          // The checker's own transfer, captured where blue receives it. tcpdump's taps see a
          // packet after GRO (they run in __netif_receive_skb_core(), net/core/dev.c), so merged
          // packets show as longer than the MTU. With TSO on at the sender they would too, without
          // any GRO: veth_xmit() (drivers/net/veth.c) passes a TSO packet on whole, and takes its
          // NAPI path, where GRO runs, only for TCP packets from a peer without TSO
          // (veth_skb_is_eligible_for_gro()); hence the check refuses to judge until TSO is off.
          // -s 128 and -w keep tcpdump fast enough to drop nothing; `length` in its -v output is
          // the IP packet's total length.
          name: `a ${BYTES / 1e6} MB transfer from red reaches blue in packets longer than the MTU`,
          run: sh`
            mtu=$(ip netns exec blue cat /sys/class/net/veth-b/mtu) || exit 3
            tso=$(ip netns exec red ethtool --json -k veth-r | jq -r '.[0] | to_entries[] | select((.key | test("^tx-tcp.*segmentation$")) and .value.active) | .key') || exit 3
            [ -z "$tso" ] || { echo $tso; exit 4; }
            capture=$(mktemp -d)
            for attempt in 1 2; do
              ip netns exec blue timeout 5 nc -l 10.0.0.2 ${PORT} >/dev/null 2>&1 &
              ip netns exec blue timeout 5 tcpdump -i veth-b -nn --immediate-mode -s 128 -w $capture/blue.pcap 'tcp and src 10.0.0.1 and dst port ${PORT}' 2>$capture/tcpdump.log &
              tcpdump=$!
              for i in $(seq 50); do
                grep -q 'listening on' $capture/tcpdump.log && ip netns exec blue ss -Htln 'sport = :${PORT}' | grep -q . && break
                sleep 0.05
              done
              head -c ${BYTES} /dev/zero | ip netns exec red timeout 3 nc -N 10.0.0.2 ${PORT}
              sleep 0.2
              kill -INT $tcpdump
              wait
              result=$(tcpdump -nn -v -r $capture/blue.pcap 2>/dev/null | grep -o 'proto TCP (6), length [0-9]*' |
                awk -v mtu=$mtu '{ n++; if ($5 > max) max = $5; if ($5 > mtu) over++ } END { printf "mtu=%d packets=%d biggest=%d merged=%d\\n", mtu, n, max, over }')
              echo "$result"
              case $result in *packets=0*) ;; *) break ;; esac
            done
            rm -rf $capture`,
          pass: checkCapture,
          timeoutMs: 20_000,
          live: false,
        },
      ],
      hint: 'In blue: `ethtool -K veth-b gro on`; in red: `ethtool -K veth-r tso off gso off`; `ethtool -k <device>` shows where they stand. To watch: in blue, `nc -l 10.0.0.2 9000 >/dev/null &` and `tcpdump -i veth-b -nn tcp`; in red, `head -c 4000000 /dev/zero | nc -N 10.0.0.2 9000`. Each line\'s `length` is the TCP payload: 1448 bytes fill a 1500-byte packet.',
      solution: sh`
        ip netns exec blue ethtool -K veth-b gro on
        ip netns exec red ethtool -K veth-r tso off gso off
        ip netns exec blue ethtool -k veth-b | grep generic-receive-offload
        ip netns exec red ethtool -k veth-r | grep -E '^(tcp|generic)-segmentation-offload'`,
    },
  ],
});
