import { defineLab, json, sh, type CommandOutput } from '../define-lab.ts';
import { inNamespaces, pingsAnswered } from '../namespaces.ts';
import { cabledSites, GW_CLOUD_LAN, GW_CLOUD_WAN, GW_ONPREM_LAN, GW_ONPREM_WAN, INTERNET, routeTheSites, SITE_HOSTS, SRV_ONPREM, VM_CLOUD } from '../vpc.ts';

interface Route { dst: string; gateway?: string; dev?: string }
interface Address { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }

const GATEWAYS = ['gw-cloud', 'gw-onprem'];

// net.ipv4.ip_forward of every namespace, one "name value" line each ("name gone" for a missing one).
const forwardingEverywhere = SITE_HOSTS.map((ns) => `echo "${ns} $(ip netns exec ${ns} sysctl -n net.ipv4.ip_forward 2>/dev/null || echo gone)"`).join('\n');

function checkForwarding(out: CommandOutput) {
  const values = Object.fromEntries(out.stdout.trim().split('\n').map((line) => line.split(' ')));
  const gone = SITE_HOSTS.filter((ns) => values[ns] === 'gone');
  if (gone.length) return `Namespace ${gone.join(' and ')} is gone: press Reset to get the lab back.`;
  const notForwarding = GATEWAYS.filter((ns) => values[ns] !== '1');
  if (notForwarding.length) return `${notForwarding.join(' and ')} ${notForwarding.length > 1 ? 'do' : 'does'} not forward yet: a gateway is a router, so set net.ipv4.ip_forward=1 inside it.`;
  const hosts = SITE_HOSTS.filter((ns) => !GATEWAYS.includes(ns) && values[ns] !== '0');
  return hosts.length === 0 || `${hosts.join(' and ')} forward${hosts.length > 1 ? '' : 's'} packets too: only the gateways should (a host that forwards is a router nobody planned; the internet here does not carry private addresses).`;
}

function checkWanAddresses(out: CommandOutput) {
  const state = json<Record<string, Address[] | null>>(out);
  for (const [ns, address] of [['gw-cloud', GW_CLOUD_WAN], ['gw-onprem', GW_ONPREM_WAN]]) {
    const links = state[ns];
    if (!links) return `Namespace ${ns} is gone: press Reset to get the lab back.`;
    const wan = links.find((link) => link.ifname === 'wan');
    const has = wan?.addr_info.some((info) => info.family === 'inet' && info.local === address && info.prefixlen === 24);
    if (!has) return `${ns}'s wan has no ${address}/24 yet: \`ip -n ${ns} addr add ${address}/24 dev wan\`.`;
  }
  return true;
}

function defaultRoute(ns: string, gateway: string, why: string) {
  return {
    name: `${ns}'s default route goes via ${gateway}`,
    run: `ip -n ${ns} -j route show default`,
    pass: (out: CommandOutput) => {
      if (out.exitCode !== 0) return `Namespace ${ns} is gone: press Reset to get the lab back.`;
      const routes = json<Route[]>(out);
      if (routes.length === 0) return `${ns} has no default route: ${why} (\`ip -n ${ns} route add default via ${gateway}\`).`;
      return routes.some((route) => route.gateway === gateway) || `${ns}'s default route goes via ${routes[0].gateway ?? routes[0].dev}, not ${gateway}.`;
    },
  };
}

export default defineLab({
  id: 'vpc-sites',
  title: 'Two sites and the internet between them',
  requires: ['netns', 'veth', 'bridge'],
  hosts: SITE_HOSTS,
  setup: cabledSites,
  exercises: [
    {
      id: 'build-the-sites',
      title: 'Address the gateways, route the sites',
      task: sh`
        Five namespaces make up this lab's world. In the cloud, \`vm-cloud\` (${VM_CLOUD}/24) sits
        behind the gateway \`gw-cloud\` (${GW_CLOUD_LAN} on its \`lan\`). On premises, \`srv-onprem\`
        (${SRV_ONPREM}/24) sits behind \`gw-onprem\` (${GW_ONPREM_LAN} on its \`lan\`). Each gateway's
        \`wan\` is cabled to \`internet\`, a bridge whose own address, ${INTERNET}/24, plays the provider
        that routes the gateways' traffic.

        Finish the plan: give gw-cloud's wan ${GW_CLOUD_WAN}/24 and gw-onprem's wan ${GW_ONPREM_WAN}/24,
        give both gateways a default route via ${INTERNET}, make the two gateways (and only them)
        forward IPv4, and give each host a default route through its own gateway.

        The two sites must still not reach each other. Their addresses are private (RFC 1918):
        \`internet\` does not forward, as real providers do not carry private addresses, so vm-cloud's
        packets for ${SRV_ONPREM} die at the provider. Carrying them across is the tunnel's job, in
        the next lab.`,
      checks: [
        { name: 'the gateways have their public addresses on wan', run: inNamespaces(GATEWAYS, '-j addr show'), pass: checkWanAddresses },
        { name: 'the gateways forward IPv4, and nothing else does', run: forwardingEverywhere, pass: checkForwarding },
        defaultRoute('gw-cloud', INTERNET, 'a gateway sends what it has no route for to its provider'),
        defaultRoute('gw-onprem', INTERNET, 'a gateway sends what it has no route for to its provider'),
        defaultRoute('vm-cloud', GW_CLOUD_LAN, 'a host sends what is not on its subnet to its gateway'),
        defaultRoute('srv-onprem', GW_ONPREM_LAN, 'a host sends what is not on its subnet to its gateway'),
        {
          name: 'the gateways reach each other across the internet',
          run: `echo "${pingsAnswered('gw-cloud', GW_ONPREM_WAN, '-c 2 -i 0.2', 3)}"`,
          pass: (out) => Number(out.stdout.trim()) > 0 || `gw-cloud's pings to ${GW_ONPREM_WAN} got no answer: check both wan addresses (the bridge in \`internet\` joins them on one subnet).`,
          live: false,
        },
        {
          name: 'each host reaches its own gateway',
          run: `echo "${pingsAnswered('vm-cloud', GW_CLOUD_WAN, '-c 2 -i 0.2', 3)} ${pingsAnswered('srv-onprem', GW_ONPREM_WAN, '-c 2 -i 0.2', 3)}"`,
          pass: (out) => {
            const [cloud, onprem] = out.stdout.trim().split(' ').map(Number);
            if (!cloud) return `vm-cloud's pings to its gateway's public address, ${GW_CLOUD_WAN}, got no answer: does vm-cloud have its default route?`;
            return onprem > 0 || `srv-onprem's pings to its gateway's public address, ${GW_ONPREM_WAN}, got no answer: does srv-onprem have its default route?`;
          },
          live: false,
        },
        {
          name: 'the sites do not reach each other in the clear',
          run: `echo "${pingsAnswered('vm-cloud', SRV_ONPREM, '-c 2 -i 0.2', 3)}"`,
          pass: (out) => !Number(out.stdout.trim()) || `vm-cloud reaches ${SRV_ONPREM} without a tunnel: a route in a gateway, or forwarding in \`internet\`, carries private addresses across the internet in the clear. Take it out: only the tunnel may join the sites.`,
          live: false,
        },
      ],
      initiallyPassing: {
        'the sites do not reach each other in the clear': 'nothing routes between the sites at the start; the check guards against a shortcut around the tunnel',
      },
      hint: sh`
        Addresses: \`ip -n gw-cloud addr add ${GW_CLOUD_WAN}/24 dev wan\` (and ${GW_ONPREM_WAN} in gw-onprem).
        Forwarding is per namespace: \`ip netns exec gw-cloud sysctl -w net.ipv4.ip_forward=1\`.
        Routes: \`ip -n gw-cloud route add default via ${INTERNET}\`, \`ip -n vm-cloud route add default via ${GW_CLOUD_LAN}\`,
        and the same on the on-prem side via ${INTERNET} and ${GW_ONPREM_LAN}.`,
      solution: sh`
        ${routeTheSites}
        ip netns exec gw-cloud ping -c 1 ${GW_ONPREM_WAN}`,
    },
  ],
});
