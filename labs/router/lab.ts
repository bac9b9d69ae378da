import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';

interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
}

function defaultRouteVia(host: string, gateway: string) {
  return {
    name: `${host} sends everything it has no route for to ${gateway}`,
    run: `ip -n ${host} -j route show default`,
    pass: (out: CommandOutput) => {
      if (out.exitCode !== 0) return `Namespace ${host} is gone: press Reset to get the lab back.`;
      const routes = json<Route[]>(out);
      if (routes.length === 0) return `${host} has no default route: \`ip -n ${host} route add default via ${gateway}\`.`;
      return routes.some((route) => route.gateway === gateway) || `${host}'s default route goes via ${routes[0].gateway ?? routes[0].dev}, not ${gateway}.`;
    },
  };
}

export default defineLab({
  id: 'router',
  title: 'A router between two subnets',
  requires: ['netns', 'veth'],
  hosts: ['left', 'router', 'right'],
  // A new namespace copies IPv4 forwarding from the host's (devinet_init_net() in
  // net/ipv4/devinet.c): on a host that forwards, router would forward before the learner asks it
  // to. Setup turns it off everywhere, so the lab starts from the same place on every host.
  setup: sh`
    for ns in left router right; do
      ip netns add $ns
      ip -n $ns link set lo up
      ip netns exec $ns sysctl -qw net.ipv4.ip_forward=0
    done
    ip link add eth0 netns left type veth peer name to-left netns router
    ip link add eth0 netns right type veth peer name to-right netns router
    ip -n left addr add 10.0.1.2/24 dev eth0
    ip -n router addr add 10.0.1.1/24 dev to-left
    ip -n router addr add 10.0.2.1/24 dev to-right
    ip -n right addr add 10.0.2.2/24 dev eth0
    ip -n left link set eth0 up
    ip -n right link set eth0 up
    ip -n router link set to-left up
    ip -n router link set to-right up`,
  exercises: [
    {
      id: 'route-between-subnets',
      title: 'Route between 10.0.1.0/24 and 10.0.2.0/24',
      task: sh`
        \`left\` (10.0.1.2/24) and \`right\` (10.0.2.2/24) sit on two different subnets. Both are
        wired to \`router\`, which has 10.0.1.1 on \`to-left\` and 10.0.2.1 on \`to-right\`. Make
        router forward IPv4 packets between its interfaces, give left and right a default route
        through router, and ping right from left. The reply's \`ttl=63\` shows the packet crossed
        exactly one router.`,
      checks: [
        {
          name: 'router forwards IPv4 (net.ipv4.ip_forward = 1)',
          run: 'ip netns exec router sysctl -n net.ipv4.ip_forward',
          pass: (out) => out.stdout.trim() === '1' || 'net.ipv4.ip_forward is 0 in router: it does not pass on packets for other hosts yet. Set it with sysctl inside router.',
        },
        defaultRouteVia('left', '10.0.1.1'),
        defaultRouteVia('right', '10.0.2.1'),
        {
          name: 'left reaches right through one router (ttl 63)',
          run: 'ip netns exec left ping -c 1 -W 1 10.0.2.2',
          pass: (out) => {
            const ttl = out.stdout.match(/ttl=(\d+)/)?.[1];
            if (!ttl) return 'A ping from left to 10.0.2.2 got no reply: check forwarding in router and the default routes of both hosts (the reply needs a way back).';
            return ttl === '63' || `The reply came back with ttl=${ttl}, not 63: it did not cross exactly one router.`;
          },
          live: false,
        },
      ],
      hint: 'Forwarding is a per-namespace sysctl: `ip netns exec router sysctl -w net.ipv4.ip_forward=1`. Then `ip -n left route add default via 10.0.1.1` and the same on right via 10.0.2.1.',
      solution: sh`
        ip netns exec router sysctl -w net.ipv4.ip_forward=1
        ip -n left route add default via 10.0.1.1
        ip -n right route add default via 10.0.2.1
        ip netns exec left ping -c 1 10.0.2.2`,
    },
  ],
});
