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
