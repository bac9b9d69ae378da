import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import {
  cabledSites, CLOUD_SUBNET, gatewayFiles, GW_CLOUD_WAN, GW_ONPREM_WAN, ONPREM_SUBNET, pskConf, reachesThroughTunnel, routeTheSites, sections,
  SITE_HOSTS, startTunnel, steps, tunnelEstablished, writeFile,
} from '../vpc.ts';

// The same tunnel with the kernel's own ESP (net/xfrm, net/ipv4/esp4.c) instead of strongSwan's
// userspace data path: charon negotiates, then hands the keys to the kernel over netlink. It needs
// a kernel built with CONFIG_INET_ESP, which the `esp` feature probe tries; elsewhere the lab's page
// says it cannot run here.
const ANSWER = '/root/outbound-spi';

interface XfrmState { src: string; dst: string; proto: string; spi: string; mode: string }

// `ip xfrm state` as objects: each state starts with a "src … dst …" line.
function parseStates(text: string) {
  const states: XfrmState[] = [];
  for (const line of text.split('\n')) {
    const head = line.match(/^src (\S+) dst (\S+)/);
    if (head) states.push({ src: head[1], dst: head[2], proto: '', spi: '', mode: '' });
    const body = line.match(/^\s+proto (\S+) spi (0x[0-9a-f]+) .*mode (\S+)/);
    const state = states.at(-1);
    if (state && body) [state.proto, state.spi, state.mode] = [body[1], body[2], body[3]];
  }
  return states;
}

const outbound = (states: XfrmState[]) => states.find((state) => state.src === GW_CLOUD_WAN && state.dst === GW_ONPREM_WAN && state.proto === 'esp');

export default defineLab({
  id: 'ipsec-xfrm',
  title: 'The same tunnel, with the kernel\'s ESP',
  requires: ['netns', 'veth', 'bridge', 'esp'],
  hosts: SITE_HOSTS,
  setup: steps(
    cabledSites,
    routeTheSites,
    gatewayFiles('kernel'),
    writeFile('/root/vpn/cloud/swanctl.conf', pskConf('cloud')),
    writeFile('/root/vpn/onprem/swanctl.conf', pskConf('onprem')),
  ),
  exercises: [
    {
      id: 'kernel-sad',
      title: 'Bring the tunnel up on xfrm and read the kernel\'s SAD',
      task: sh`
        This time charon loads kernel-netlink and not kernel-libipsec: it still speaks IKEv2, but
        the ESP SAs and the policies that choose them live in the kernel (the SAD and SPD of
        net/xfrm), and the kernel encrypts on its output path. Both swanctl.conf files are ready.

        Start both gateways (\`/root/vpn/start-gateway cloud\`, \`… onprem\`) and load their
        configurations (\`swanctl --load-all --file /root/vpn/<side>/swanctl.conf --uri unix:///root/vpn/<side>/charon.vici\`).
        Then look where the kernel keeps them: \`ip -n gw-cloud xfrm state\` (the SAs, one per
        direction) and \`ip -n gw-cloud xfrm policy\` (out, in and fwd policies for
        ${CLOUD_SUBNET} ⇄ ${ONPREM_SUBNET}). No ipsec0 device this time: the route is the
        ordinary one, and the policy lookup in the output path picks the packets to encrypt.

        Write the SPI of gw-cloud's outbound SA (from ${GW_CLOUD_WAN} to ${GW_ONPREM_WAN}), as
        \`ip xfrm state\` prints it (0x…), into \`${ANSWER}\`.`,
      checks: [
        tunnelEstablished('cloud'),
        tunnelEstablished('onprem'),
        {
          name: 'gw-cloud\'s kernel holds the tunnel-mode ESP SAs and the policies for both subnets',
          run: 'echo "=== states"; ip -n gw-cloud xfrm state; echo "=== policies"; ip -n gw-cloud xfrm policy',
          pass: (out: CommandOutput) => {
            const found = sections(out);
            const states = parseStates(found.states ?? '');
            const sa = outbound(states);
            if (!sa) return `gw-cloud's kernel has no ESP SA from ${GW_CLOUD_WAN} to ${GW_ONPREM_WAN} (\`ip -n gw-cloud xfrm state\`): is charon loading kernel-netlink, and is the child SA INSTALLED?`;
            if (sa.mode !== 'tunnel') return `gw-cloud's outbound SA is in ${sa.mode} mode: a site-to-site tunnel uses tunnel mode.`;
            const policies = found.policies ?? '';
            return (policies.includes(`src ${CLOUD_SUBNET} dst ${ONPREM_SUBNET}`) && /dir out/.test(policies)) || `gw-cloud's SPD has no outbound policy for ${CLOUD_SUBNET} → ${ONPREM_SUBNET} (\`ip -n gw-cloud xfrm policy\`).`;
          },
        },
        {
          name: `${ANSWER} holds the SPI of gw-cloud's outbound SA`,
          run: `echo "=== answer"; cat ${ANSWER} 2>/dev/null; echo "=== states"; ip -n gw-cloud xfrm state`,
          pass: (out: CommandOutput) => {
            const found = sections(out);
            const answer = (found.answer ?? '').trim().toLowerCase();
            if (!answer) return `${ANSWER} is empty or missing: write the SPI there, e.g. \`echo 0xc1a2b3c4 > ${ANSWER}\`.`;
            const sa = outbound(parseStates(found.states ?? ''));
            if (!sa) return 'gw-cloud has no outbound ESP SA to compare with: bring the tunnel up first.';
            return answer === sa.spi || `${ANSWER} says ${answer}, but gw-cloud's outbound SA (src ${GW_CLOUD_WAN} dst ${GW_ONPREM_WAN}) has spi ${sa.spi}. Rekeying changes the SPI: read it again.`;
          },
        },
        reachesThroughTunnel,
      ],
      hint: sh`
        \`ip -n gw-cloud xfrm state\` prints blocks starting with \`src ${GW_CLOUD_WAN} dst ${GW_ONPREM_WAN}\`;
        the next line reads \`proto esp spi 0x… reqid 1 mode tunnel\`. \`swanctl --list-sas\` shows the same
        SPI on its "out" line, without the 0x.`,
      solution: sh`
        ${startTunnel}
        ip -n gw-cloud xfrm state | awk '/^src ${GW_CLOUD_WAN} dst ${GW_ONPREM_WAN}/ { getline; print $4; exit }' > ${ANSWER}
        cat ${ANSWER}`,
    },
  ],
});
