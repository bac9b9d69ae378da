import { sh } from './define-lab.ts';

// Shell snippets that several labs share. Each lab still reads as a whole: these are the
// common starting points ("two namespaces joined by a cable"), not hidden behaviour.

// red (veth-r 10.0.0.1/24) and blue (veth-b 10.0.0.2/24) joined by a veth pair, both ends up.
export const redAndBlue = sh`
  ip netns add red
  ip netns add blue
  ip link add veth-r netns red type veth peer name veth-b netns blue
  ip -n red addr add 10.0.0.1/24 dev veth-r
  ip -n blue addr add 10.0.0.2/24 dev veth-b
  ip -n red link set veth-r up
  ip -n blue link set veth-b up
  ip -n red link set lo up
  ip -n blue link set lo up`;

// One JSON document holding the output of `ip -n <ns> <command>` for each namespace, or null for
// a namespace that does not exist: {"red": [...], "blue": null}.
export function inNamespaces(namespaces: readonly string[], command: string) {
  const fields = namespaces.map((ns) => `"${ns}":%s`).join(',');
  const values = namespaces.map((ns) => `"$(ip -n ${ns} ${command} 2>/dev/null || echo null)"`).join(' ');
  return `printf '{${fields}}' ${values}`;
}

// Network namespaces with loopback up and IPv6 off, for labs that count packets: with IPv6 on,
// router and neighbour solicitations would move the counters too.
export function quietNamespaces(...names: string[]) {
  return sh`
    for ns in ${names.join(' ')}; do
      ip netns add $ns
      ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip -n $ns link set lo up
    done`;
}

// left (10.0.0.1/24) and right (10.0.0.2/24), one subnet, each cabled to a port of a switch
// namespace (port-left, port-right) that has no bridge, no address and no routing: whatever
// carries packets between the ports is the lab's subject. `hostFeatures` are ethtool -K settings
// for the hosts' eth0, which the ways of forwarding need differently.
export function hostsAroundASwitch(hostFeatures: string) {
  return sh`
    ${quietNamespaces('left', 'right', 'switch')}
    ip link add eth0 netns left type veth peer name port-left netns switch
    ip link add eth0 netns right type veth peer name port-right netns switch
    ip -n left addr add 10.0.0.1/24 dev eth0
    ip -n right addr add 10.0.0.2/24 dev eth0
    for ns in left right; do
      ip netns exec $ns ethtool -K eth0 ${hostFeatures} >/dev/null
      ip -n $ns link set eth0 up
    done
    for port in port-left port-right; do ip -n switch link set $port up; done`;
}

// An attacker (10.0.1.1/24, cabled to blue's veth-a, 10.0.1.2) and a second host `peer`
// (10.0.2.1/24, cabled to blue's `peerDevice`, 10.0.2.2), for labs that drop one and keep the other.
export function attackerAndPeerIntoBlue(peer: string, peerDevice: string) {
  return sh`
    ${quietNamespaces('attacker', peer, 'blue')}
    ip link add eth0 netns attacker type veth peer name veth-a netns blue
    ip link add eth0 netns ${peer} type veth peer name ${peerDevice} netns blue
    ip -n attacker addr add 10.0.1.1/24 dev eth0
    ip -n ${peer} addr add 10.0.2.1/24 dev eth0
    ip -n blue addr add 10.0.1.2/24 dev veth-a
    ip -n blue addr add 10.0.2.2/24 dev ${peerDevice}
    for ns in attacker ${peer}; do ip -n $ns link set eth0 up; done
    for dev in veth-a ${peerDevice}; do ip -n blue link set $dev up; done`;
}

// How many of a namespace's pings were answered, as a shell expansion that prints the number (or
// nothing when ping could not run at all). `options` are ping's own (-c, -i, -p); each reply is
// awaited at most a second, and `seconds`, when given, bounds the whole run.
export function pingsAnswered(ns: string, address: string, options: string, seconds?: number) {
  const bound = seconds ? `timeout ${seconds} ` : '';
  return `$(ip netns exec ${ns} ${bound}ping -q ${options} -W 1 ${address} 2>/dev/null | sed -n 's/.* \\([0-9]*\\) received.*/\\1/p')`;
}
