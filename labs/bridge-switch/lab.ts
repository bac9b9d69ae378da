import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { inNamespaces } from '../namespaces.ts';

interface Link {
  ifname: string;
  flags: string[];
  master?: string;
  linkinfo?: { info_kind?: string };
}
interface AddressedLink {
  ifname: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

const HOSTS = ['h1', 'h2', 'h3'] as const;
const addressOf = (host: string) => `10.0.10.${host.slice(1)}`;

function checkBridge(out: CommandOutput) {
  if (out.exitCode !== 0) return 'There is no br0 yet: create it with `ip link add br0 type bridge`.';
  const [bridge] = json<Link[]>(out);
  if (bridge.linkinfo?.info_kind !== 'bridge') return `br0 is a ${bridge.linkinfo?.info_kind ?? 'plain'} device, not a bridge.`;
  return bridge.flags.includes('UP') || 'br0 exists but is down: `ip link set br0 up`.';
}

function checkPorts(out: CommandOutput) {
  const ports = json<Link[]>({ ...out, stdout: out.stdout || '[]' });
  const up = ports.filter((port) => port.flags.includes('UP'));
  if (ports.length < 3) return `br0 has ${ports.length} port${ports.length === 1 ? '' : 's'} (${ports.map((p) => p.ifname).join(', ') || 'none'}); each host needs one: \`ip link set h1-br master br0\`.`;
  const down = ports.filter((port) => !port.flags.includes('UP'));
  return up.length >= 3 || `${down.map((p) => p.ifname).join(', ')} ${down.length === 1 ? 'is' : 'are'} enslaved to br0 but down.`;
}

function checkAddresses(out: CommandOutput) {
  const hosts = json<Record<string, AddressedLink[] | null>>(out);
  for (const host of HOSTS) {
    const links = hosts[host];
    if (!links) return `Namespace ${host} is gone: press Reset to get the lab back.`;
    const wanted = addressOf(host);
    const link = links.find((l) => l.addr_info.some((a) => a.family === 'inet' && a.local === wanted && a.prefixlen === 24));
    if (!link) return `${host} has no interface with ${wanted}/24 yet.`;
    if (!link.flags.includes('UP')) return `${link.ifname} in ${host} has ${wanted}/24 but is down.`;
  }
  return true;
}

// Every ordered pair pings once; the output names the pairs that failed.
const pairs = HOSTS.flatMap((from) => HOSTS.filter((to) => to !== from).map((to) => [from, to] as const));
const pingEveryPair = pairs
  .map(([from, to]) => `ip netns exec ${from} ping -c 1 -W 1 ${addressOf(to)} >/dev/null 2>&1 || echo "${from} -> ${to}"`)
  .join('\n');

export default defineLab({
  id: 'bridge-switch',
  title: 'A bridge is a switch',
  requires: ['netns', 'veth', 'bridge'],
  hosts: [...HOSTS],
  setup: HOSTS.map((host) => `ip netns add ${host}\nip -n ${host} link set lo up`).join('\n'),
  exercises: [
    {
      id: 'three-hosts',
      title: 'Three hosts on one bridge',
      task: sh`
        The lab created three empty namespaces, \`h1\`, \`h2\` and \`h3\`. Build the switch they plug
        into: a bridge \`br0\` in the lab's own namespace (the *lab* tab), up. Give each host a veth
        pair whose end \`eth0\` lives inside the host and whose other end (\`h1-br\`, \`h2-br\`, \`h3-br\`)
        is a port of br0. Address the hosts 10.0.10.1/24, 10.0.10.2/24 and 10.0.10.3/24, bring every
        end up, and check that each host can ping the two others.`,
      checks: [
        { name: 'br0 is a bridge and it is up', run: 'ip -j -d link show dev br0', pass: checkBridge },
        { name: 'br0 has three ports, all up', run: 'ip -j link show master br0', pass: checkPorts },
        { name: 'h1, h2 and h3 have 10.0.10.1, .2 and .3 (/24) on an interface that is up', run: inNamespaces(HOSTS, '-j addr show'), pass: checkAddresses },
        {
          name: 'every host pings the two others',
          run: pingEveryPair,
          pass: (out) => !out.stdout.trim() || `No reply for ${out.stdout.trim().split('\n').join(', ')}: is every port of br0 up, and every eth0?`,
          live: false,
          timeoutMs: 15_000,
        },
      ],
      hint: 'Per host: `ip link add h1-br type veth peer name eth0 netns h1`, then `ip link set h1-br master br0 up`, `ip -n h1 addr add 10.0.10.1/24 dev eth0` and `ip -n h1 link set eth0 up`. A bridge forwards between its ports like a switch; it needs no address itself.',
      solution: sh`
        ip link add br0 type bridge
        ip link set br0 up
        for i in 1 2 3; do
          ip link add h$i-br type veth peer name eth0 netns h$i
          ip link set h$i-br master br0 up
          ip -n h$i addr add 10.0.10.$i/24 dev eth0
          ip -n h$i link set eth0 up
        done
        ip netns exec h1 ping -c 1 10.0.10.3`,
    },
  ],
});
