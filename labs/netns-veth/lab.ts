import { defineLab, json, ok, sh, type CommandOutput } from '../define-lab.ts';
import { inNamespaces, redAndBlue } from '../namespaces.ts';

interface Link {
  ifname: string;
  flags: string[];
  operstate: string;
  linkinfo?: { info_kind?: string };
}
interface AddressedLink {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

const inBothNamespaces = (command: string) => inNamespaces(['red', 'blue'], command);

const ends = [
  { namespace: 'red', device: 'veth-r', address: '10.0.0.1' },
  { namespace: 'blue', device: 'veth-b', address: '10.0.0.2' },
] as const;

function checkVethEnds(out: CommandOutput) {
  const links = json<Record<'red' | 'blue', Link[] | null>>(out);
  for (const end of ends) {
    const inside = links[end.namespace];
    if (!inside) return `Namespace ${end.namespace} does not exist yet.`;
    const link = inside.find((l) => l.ifname === end.device);
    if (!link) return `Namespace ${end.namespace} has no interface called ${end.device}: create the pair with one end in each namespace.`;
    if (link.linkinfo?.info_kind !== 'veth') return `${end.device} in ${end.namespace} is a ${link.linkinfo?.info_kind ?? 'plain'} device, not one end of a veth pair.`;
    if (!link.flags.includes('UP')) return `${end.device} in ${end.namespace} is down: set it up.`;
  }
  return true;
}

function checkAddresses(out: CommandOutput) {
  const addresses = json<Record<'red' | 'blue', AddressedLink[] | null>>(out);
  for (const end of ends) {
    const link = addresses[end.namespace]?.find((l) => l.ifname === end.device);
    if (!link) return `${end.device} is not in namespace ${end.namespace}.`;
    const ipv4 = link.addr_info.filter((a) => a.family === 'inet');
    if (ipv4.length === 0) return `${end.namespace} exists but ${end.device} has no IPv4 address: it needs ${end.address}/24.`;
    if (!ipv4.some((a) => a.local === end.address && a.prefixlen === 24)) {
      return `${end.device} in ${end.namespace} has ${ipv4.map((a) => `${a.local}/${a.prefixlen}`).join(', ')}, not ${end.address}/24.`;
    }
  }
  return true;
}

export default defineLab({
  id: 'netns-veth',
  title: 'Two namespaces and a cable',
  requires: ['netns', 'veth'],
  hosts: ['red', 'blue'],
  exercises: [
    {
      id: 'connect-red-blue',
      title: 'Connect red and blue with a veth pair',
      task: sh`
        Create two network namespaces, \`red\` and \`blue\`. Join them with a veth pair whose end
        \`veth-r\` lives in red and \`veth-b\` in blue. Give veth-r 10.0.0.1/24 and veth-b 10.0.0.2/24,
        bring both ends up, and ping blue from red.`,
      checks: [
        {
          name: 'namespaces red and blue exist',
          run: 'ip -j netns list',
          pass: (out) => {
            const names = (json<{ name: string }[] | null>({ ...out, stdout: out.stdout || 'null' }) ?? []).map((ns) => ns.name);
            const missing = ['red', 'blue'].filter((name) => !names.includes(name));
            return missing.length === 0 || `No namespace called ${missing.join(' or ')} yet: try \`ip netns add ${missing[0]}\`.`;
          },
        },
        { name: 'a veth pair joins red and blue, both ends up', run: inBothNamespaces('-j -d link show'), pass: checkVethEnds },
        { name: 'veth-r has 10.0.0.1/24 and veth-b has 10.0.0.2/24', run: inBothNamespaces('-j addr show'), pass: checkAddresses },
        {
          name: 'red can ping blue',
          run: 'ip netns exec red ping -c 1 -W 1 10.0.0.2',
          pass: ok,
          fail: 'A ping from red to 10.0.0.2 got no reply: check that both ends are up and addressed.',
          // Traffic: a failing ping waits its full second, so live re-checks run it only once the rest passes.
          live: false,
        },
      ],
      hint: 'A veth pair is one cable with two ends. `ip link add veth-r netns red type veth peer name veth-b netns blue` creates it with each end already in its namespace; then address and raise each end with `ip -n <ns> …`.',
      solution: `${redAndBlue}\nip netns exec red ping -c 1 10.0.0.2`,
    },
  ],
});
