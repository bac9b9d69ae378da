import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import { pingsAnswered } from '../namespaces.ts';
import {
  cabledSites, CLOUD_SUBNET, gatewayFiles, GW_CLOUD_WAN, GW_ONPREM_WAN, ONPREM_SUBNET, pskConf, pskTunnel, reachesThroughTunnel,
  routeTheSites, sections, SITE_HOSTS, SRV_ONPREM, steps, swanctl, tunnelEstablished, VM_CLOUD, writeFile,
} from '../vpc.ts';

// gw-cloud's swanctl.conf with the blanks the learner fills in; gw-onprem's is theirs to write.
const skeleton = `# gw-cloud's IKE configuration: fill in the blanks (___), then load it with
#   swanctl --load-all --file /root/vpn/cloud/swanctl.conf --uri unix:///root/vpn/cloud/charon.vici
# gw-onprem needs the mirror image of this file in /root/vpn/onprem/swanctl.conf.
${pskConf('cloud')
  .replace(/(local_addrs|remote_addrs|local_ts|remote_ts) = .*/g, '$1 = ___')
  .replace(/secret = .*/, 'secret = ___')}`;

const CAPTURE = '/root/transit.pcap';
// ping -p fills each echo request's payload with these bytes ("wl-secret-1234"): if they show up in
// a capture of the internet, the payload crossed it in the clear.
const MARKER = 'wl-secret-1234';
const MARKER_HEX = Buffer.from(MARKER).toString('hex');

function checkLearnersCapture(out: CommandOutput) {
  if (out.stdout.startsWith('missing')) return `There is no capture at ${CAPTURE} yet: capture on a gateway's wan while vm-cloud pings srv-onprem, with \`tcpdump -w ${CAPTURE}\`.`;
  if (out.exitCode !== 0) return `tcpdump cannot read ${CAPTURE}: ${out.stdout.trim().split('\n').at(-1)}`;
  const lines = out.stdout.split('\n');
  const esp = lines.filter((line) => /UDP-encap: ESP|: ESP\(spi/.test(line)).length;
  const clear = lines.filter((line) => line.includes(`${VM_CLOUD} > ${SRV_ONPREM}`) || line.includes(`${SRV_ONPREM} > ${VM_CLOUD}`)).length;
  if (clear > 0) return `${CAPTURE} holds ${clear} packets between ${VM_CLOUD} and ${SRV_ONPREM} in the clear: was it taken on a LAN (lan, eth0) rather than on a wan? There the packets are not encrypted yet, or any more.`;
  return esp >= 2 || `${CAPTURE} holds ${esp} ESP packets: capture on gw-cloud's or gw-onprem's wan while vm-cloud pings srv-onprem through the tunnel.`;
}

function checkWire(out: CommandOutput) {
  const found = sections(out);
  const marked = Number(found.marker);
  if (marked > 0) return `The checker's pings carried the bytes "${MARKER}", and they crossed the internet readable: the traffic between the sites is not in the tunnel.`;
  if (!Number(found.replies)) return `The checker's pings from vm-cloud to ${SRV_ONPREM} got no answer, so there was nothing to look for on the wire: bring the tunnel up first.`;
  const esp = Number(found.esp);
  return esp >= 3 || `Only ${esp} ESP-in-UDP packets (port 4500) crossed the internet during the checker's pings.`;
}

export default defineLab({
  id: 'ipsec-tunnel',
  title: 'An IKEv2 tunnel between the sites',
  requires: ['netns', 'veth', 'bridge', 'tun'],
  hosts: SITE_HOSTS,
  setup: steps(cabledSites, routeTheSites, gatewayFiles(), writeFile('/root/vpn/cloud/swanctl.conf', skeleton)),
  exercises: [
    {
      id: 'ikev2-psk',
      title: 'Bring up IKEv2 with a pre-shared key',
      task: sh`
        The sites are routed as the last lab left them, and each gateway has a strongSwan
        configuration waiting in \`/root/vpn/cloud\` and \`/root/vpn/onprem\`: a \`strongswan.conf\`
        (the plugins charon loads, including kernel-libipsec, its vici socket, its log file) and, for
        gw-cloud, a \`swanctl.conf\` with blanks.

        1. Start one IKE daemon per gateway: \`/root/vpn/start-gateway cloud\` and
           \`/root/vpn/start-gateway onprem\` run charon inside each gateway's namespace.
        2. Fill in gw-cloud's \`swanctl.conf\`: the two public addresses (${GW_CLOUD_WAN} and
           ${GW_ONPREM_WAN}), the traffic selectors (${CLOUD_SUBNET} here, ${ONPREM_SUBNET} there)
           and a pre-shared key of your choosing. Write gw-onprem's as its mirror image: the same
           proposals and key, local and remote swapped.
        3. Load each file into its own charon with \`swanctl --load-all --file … --uri …\`. With
           \`start_action = start\` the connection starts as soon as it is loaded; \`swanctl --initiate
           --child sites --uri …\` starts it by hand.

        Then \`${swanctl('cloud', '--list-sas')}\` should show the IKE SA ESTABLISHED and its child
        SA INSTALLED, and vm-cloud should reach srv-onprem (${SRV_ONPREM}). Each gateway's
        \`charon.log\` tells you what went wrong when it does not.`,
      checks: [
        tunnelEstablished('cloud'),
        tunnelEstablished('onprem'),
        reachesThroughTunnel,
      ],
      hint: sh`
        In gw-cloud's file: \`local_addrs = ${GW_CLOUD_WAN}\`, \`remote_addrs = ${GW_ONPREM_WAN}\`,
        \`local_ts = ${CLOUD_SUBNET}\`, \`remote_ts = ${ONPREM_SUBNET}\`, \`secret = "…"\`. In gw-onprem's,
        the addresses, selectors and ids swap places; the connection can be called \`cloud\`. A
        "NO_PROPOSAL_CHOSEN" or "AUTHENTICATION_FAILED" in charon.log means the two files disagree
        on proposals or on the key.`,
      solution: sh`
        ${pskTunnel}
        ip netns exec vm-cloud ping -c 2 ${SRV_ONPREM}`,
    },
    {
      id: 'prove-encryption',
      title: 'Prove the traffic is encrypted',
      task: sh`
        "The tunnel is up" is a claim; a capture of the internet is proof. With the tunnel from the
        last exercise up, capture on a gateway's \`wan\` into \`${CAPTURE}\` while vm-cloud pings
        srv-onprem, for example:

        \`ip netns exec gw-onprem timeout 5 tcpdump -i wan -w ${CAPTURE} &\` then
        \`ip netns exec vm-cloud ping -c 3 ${SRV_ONPREM}\`.

        Read it back with \`tcpdump -nn -r ${CAPTURE}\`: the pings are gone, and in their place are UDP
        packets between the gateways' port 4500 holding ESP. The checker reads your capture, then
        makes its own on every port of the internet's bridge while vm-cloud sends pings whose payload spells
        "${MARKER}", and looks for those bytes.`,
      checks: [
        {
          name: `your capture, ${CAPTURE}, holds ESP between the gateways and no cleartext between the sites`,
          run: `test -s ${CAPTURE} || { echo missing; exit 0; }; tcpdump -nn -r ${CAPTURE} 2>&1 | head -n 5000`,
          pass: checkLearnersCapture,
        },
        {
          name: 'the checker\'s marked pings cross the internet only as ESP',
          run: sh`
            pcap=$(mktemp /tmp/wire-XXXXXX.pcap)
            ip netns exec internet timeout 6 tcpdump -i any --immediate-mode -nn -U -w $pcap 2>/dev/null &
            dump=$!
            for i in $(seq 50); do [ -s $pcap ] && break; sleep 0.05; done
            echo "=== replies"
            echo ${pingsAnswered('vm-cloud', SRV_ONPREM, `-c 3 -i 0.2 -p ${MARKER_HEX}`, 4)}
            sleep 0.3
            kill $dump; wait $dump 2>/dev/null
            echo "=== esp"; tcpdump -nn -r $pcap 'udp port 4500' 2>/dev/null | wc -l
            echo "=== marker"; grep -c -a '${MARKER}' $pcap
            rm -f $pcap`,
          pass: checkWire,
          timeoutMs: 15_000,
          live: false,
        },
      ],
      hint: sh`
        Start the capture in the background first, then ping, then wait for tcpdump to finish (its
        \`timeout\`). \`tcpdump -nn -r ${CAPTURE}\` should show lines like
        \`${GW_CLOUD_WAN}.4500 > ${GW_ONPREM_WAN}.4500: UDP-encap: ESP(spi=…)\`. If the checker finds
        the marker, the pings are not in the tunnel: is the child SA INSTALLED?`,
      solution: sh`
        ${pskTunnel}
        ip netns exec gw-onprem timeout 3 tcpdump -i wan -U -w ${CAPTURE} 2>/dev/null &
        sleep 0.5
        ip netns exec vm-cloud ping -c 3 -i 0.2 ${SRV_ONPREM}
        wait
        tcpdump -nn -r ${CAPTURE}`,
    },
  ],
});
