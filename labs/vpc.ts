import { sh, type CommandOutput } from './define-lab.ts';
import { pingsAnswered, quietNamespaces } from './namespaces.ts';

// The capstone's two sites and the internet between them, shared by every lab of Part 5. Each lab
// starts from the stage the one before it ends at, so a learner can open any of them directly.
//
//   vm-cloud eth0 10.10.1.10/24 ── lan 10.10.1.1/24  gw-cloud  wan 198.51.100.1/24 ─┐
//                                                                                 internet: br0 198.51.100.254/24
//   srv-onprem eth0 192.168.50.10/24 ── lan 192.168.50.1/24  gw-onprem  wan 198.51.100.2/24 ─┘
//
// `internet` is a bridge with an address of its own (the "ISP" the gateways route through, and the
// stranger that probes them); it does not forward, so private addresses go nowhere across it.
export const CLOUD_SUBNET = '10.10.1.0/24';
export const ONPREM_SUBNET = '192.168.50.0/24';
export const VM_CLOUD = '10.10.1.10';
export const SRV_ONPREM = '192.168.50.10';
export const GW_CLOUD_LAN = '10.10.1.1';
export const GW_ONPREM_LAN = '192.168.50.1';
export const GW_CLOUD_WAN = '198.51.100.1';
export const GW_ONPREM_WAN = '198.51.100.2';
export const INTERNET = '198.51.100.254';
export const SITE_HOSTS = ['vm-cloud', 'gw-cloud', 'internet', 'gw-onprem', 'srv-onprem'];

// Namespaces and cables, LAN addresses, forwarding off everywhere (a new namespace copies the
// host's setting): what the first lab starts from.
export const cabledSites = sh`
  ${quietNamespaces(...SITE_HOSTS)}
  for ns in ${SITE_HOSTS.join(' ')}; do ip netns exec $ns sysctl -qw net.ipv4.ip_forward=0; done
  ip link add eth0 netns vm-cloud type veth peer name lan netns gw-cloud
  ip link add eth0 netns srv-onprem type veth peer name lan netns gw-onprem
  ip link add wan netns gw-cloud type veth peer name to-cloud netns internet
  ip link add wan netns gw-onprem type veth peer name to-onprem netns internet
  ip -n internet link add br0 type bridge
  ip -n internet addr add ${INTERNET}/24 dev br0
  for port in to-cloud to-onprem; do ip -n internet link set $port master br0 up; done
  ip -n internet link set br0 up
  ip -n vm-cloud addr add ${VM_CLOUD}/24 dev eth0
  ip -n gw-cloud addr add ${GW_CLOUD_LAN}/24 dev lan
  ip -n srv-onprem addr add ${SRV_ONPREM}/24 dev eth0
  ip -n gw-onprem addr add ${GW_ONPREM_LAN}/24 dev lan
  for ns in vm-cloud srv-onprem; do ip -n $ns link set eth0 up; done
  for ns in gw-cloud gw-onprem; do ip -n $ns link set lan up; ip -n $ns link set wan up; done`;

// The first lab's work: the gateways' public addresses and routes, forwarding on the gateways only,
// the hosts' default routes through their gateway.
export const routeTheSites = sh`
  ip -n gw-cloud addr add ${GW_CLOUD_WAN}/24 dev wan
  ip -n gw-onprem addr add ${GW_ONPREM_WAN}/24 dev wan
  ip -n gw-cloud route add default via ${INTERNET}
  ip -n gw-onprem route add default via ${INTERNET}
  ip netns exec gw-cloud sysctl -qw net.ipv4.ip_forward=1
  ip netns exec gw-onprem sysctl -qw net.ipv4.ip_forward=1
  ip -n vm-cloud route add default via ${GW_CLOUD_LAN}
  ip -n srv-onprem route add default via ${GW_ONPREM_LAN}`;

export type Side = 'cloud' | 'onprem';
export const SIDES: Side[] = ['cloud', 'onprem'];
export const peerOf = (side: Side): Side => (side === 'cloud' ? 'onprem' : 'cloud');
export const vpnDir = (side: Side) => `/root/vpn/${side}`;
// Where each gateway's charon listens for swanctl: a file in the sandbox, reachable from any namespace.
export const viciUri = (side: Side) => `unix://${vpnDir(side)}/charon.vici`;
export const swanctl = (side: Side, args: string) => `swanctl ${args} --uri ${viciUri(side)}`;
const wanOf = (side: Side) => (side === 'cloud' ? GW_CLOUD_WAN : GW_ONPREM_WAN);
const subnetOf = (side: Side) => (side === 'cloud' ? CLOUD_SUBNET : ONPREM_SUBNET);
// The connection each gateway defines is named after the site it leads to; its one child after both.
export const connectionOf = (side: Side) => peerOf(side);
export const CHILD = 'sites';

// Each gateway's strongswan.conf: the plugins charon loads (its crypto is OpenSSL's), its own vici
// socket, and a log file the learner can read (charon logs to syslog otherwise, and a sandbox has
// none). The ESP data path is either the kernel's xfrm (kernel-netlink installs the SAs and
// policies) or, for kernels built without ESP, strongSwan's own in userspace: kernel-libipsec, which
// routes the sites' traffic into a TUN device (ipsec0) and sends ESP in UDP from charon itself.
// start-gateway runs charon inside the gateway's namespace with a /run of its own, because charon
// refuses to start while another charon's pid file is in /run.
export type EspDataPath = 'userspace' | 'kernel';
const DATA_PATH_PLUGINS: Record<EspDataPath, string> = { userspace: 'kernel-libipsec kernel-netlink', kernel: 'kernel-netlink' };

export const gatewayFiles = (dataPath: EspDataPath = 'userspace') => sh`
  for side in ${SIDES.join(' ')}; do
    # swanctl --file looks for credentials in these directories beside the file
    for dir in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa pkcs8 pkcs12; do mkdir -p /root/vpn/$side/$dir; done
    ${keptOnResume('/root/vpn/$side/strongswan.conf')} || cat > /root/vpn/$side/strongswan.conf <<EOF
  charon {
    load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints ${DATA_PATH_PLUGINS[dataPath]} socket-default vici updown
    plugins {
      vici {
        socket = unix:///root/vpn/$side/charon.vici
      }
    }
    filelog {
      charon {
        path = /root/vpn/$side/charon.log
        time_format = %H:%M:%S
        default = 1
        ike = 2
      }
    }
  }
  EOF
  done
  ${keptOnResume('/root/vpn/start-gateway')} || cat > /root/vpn/start-gateway <<'EOF'
  #!/bin/sh
  # start-gateway cloud|onprem: runs strongSwan's IKE daemon, charon, in gw-<side>'s network namespace.
  set -e
  side=$1
  case "$side" in cloud|onprem) ;; *) echo "usage: start-gateway cloud|onprem" >&2; exit 2 ;; esac
  dir=/root/vpn/$side
  if [ -S $dir/charon.vici ] && swanctl --stats --uri unix://$dir/charon.vici >/dev/null 2>&1; then
    echo "charon already runs in gw-$side"; exit 0
  fi
  rm -f $dir/charon.vici
  STRONGSWAN_CONF=$dir/strongswan.conf setsid ip netns exec gw-$side \\
    unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' \\
    </dev/null >>$dir/charon.out 2>&1 &
  for i in $(seq 50); do [ -S $dir/charon.vici ] && { echo "charon runs in gw-$side (vici socket $dir/charon.vici, log $dir/charon.log)"; exit 0; }; sleep 0.1; done
  echo "charon did not start in gw-$side: see $dir/charon.out and $dir/charon.log" >&2; exit 1
  EOF
  chmod +x /root/vpn/start-gateway`;

// One gateway's swanctl.conf: an IKEv2 connection to the other gateway and one child SA joining
// the two subnets. `auth` is the two ends' authentication sections and `extra` any top-level sections
// (secrets, authorities): the PSK and certificate labs differ only there. Plain text, not sh``:
// it goes into a here-document, where indentation is kept as written.
export function swanctlConf(side: Side, auth: string, extra: string) {
  return `connections {
  ${connectionOf(side)} {
    version = 2
    local_addrs = ${wanOf(side)}
    remote_addrs = ${wanOf(peerOf(side))}
    proposals = aes256-sha256-modp2048
    dpd_delay = 10s
${indent(auth, 4)}
    children {
      ${CHILD} {
        local_ts = ${subnetOf(side)}
        remote_ts = ${subnetOf(peerOf(side))}
        esp_proposals = aes256-sha256
        dpd_action = restart
        start_action = start
      }
    }
  }
}
${extra}`;
}

const indent = (text: string, spaces: number) => text.replace(/^(?=.)/gm, ' '.repeat(spaces));

export const PSK = 'correct horse battery staple';
const pskAuth = (side: Side) => `local {
  auth = psk
  id = gw-${side}
}
remote {
  auth = psk
  id = gw-${peerOf(side)}
}`;
const pskSecret = `secrets {
  ike-vpc {
    id-cloud = gw-cloud
    id-onprem = gw-onprem
    secret = "${PSK}"
  }
}`;
export const pskConf = (side: Side) => swanctlConf(side, pskAuth(side), pskSecret);

// A file written from a here-document whose text is taken literally. When a learner resumes on
// kept files (LAB_RESUMING) and the file is there, it is theirs, perhaps edited: it stays as it is.
export const writeFile = (file: string, text: string) =>
  `${keptOnResume(file)} || cat > ${file} <<'EOF'\n${text}\nEOF`;
const keptOnResume = (file: string) => `{ [ -n "\${LAB_RESUMING:-}" ] && [ -e ${file} ]; }`;

// Shell blocks one after the other. Blocks holding here-documents are joined with this rather than
// placed inside sh``, which would shift their lines.
export const steps = (...blocks: string[]) => blocks.join('\n');

// Starts both charons, loads each gateway's swanctl.conf and waits (bounded) for the child SA.
export const startTunnel = sh`
  for side in ${SIDES.join(' ')}; do /root/vpn/start-gateway $side; done
  for side in ${SIDES.join(' ')}; do swanctl --load-all --file /root/vpn/$side/swanctl.conf --uri unix:///root/vpn/$side/charon.vici; done
  for i in $(seq 100); do
    ${swanctl('cloud', '--list-sas')} 2>/dev/null | grep -q INSTALLED && break
    sleep 0.1
  done`;

// The PSK tunnel, up: what the labs after "Bring up IKEv2" start from.
export const pskTunnel = steps(
  writeFile('/root/vpn/cloud/swanctl.conf', pskConf('cloud')),
  writeFile('/root/vpn/onprem/swanctl.conf', pskConf('onprem')),
  startTunnel,
);

// What `swanctl --list-sas` prints, read into objects: the IKE SAs and their child SAs.
export interface ChildSa { name: string; state: string; mode: string; inPackets: number; outPackets: number; localTs: string[]; remoteTs: string[] }
export interface IkeSa { name: string; state: string; version: string; localId: string; remoteId: string; remoteHost: string; children: ChildSa[] }

export function parseSas(text: string): IkeSa[] {
  const sas: IkeSa[] = [];
  let child: ChildSa | undefined;
  for (const line of text.split('\n')) {
    const ike = line.match(/^(\S+): #\d+, (\w+), (IKEv\d)/);
    if (ike) {
      sas.push({ name: ike[1], state: ike[2], version: ike[3], localId: '', remoteId: '', remoteHost: '', children: [] });
      child = undefined;
      continue;
    }
    const sa = sas.at(-1);
    if (!sa) continue;
    const peer = line.match(/^ {2}(local|remote)\s+'([^']*)' @ ([^[\s]+)/);
    if (peer && peer[1] === 'local') sa.localId = peer[2];
    if (peer && peer[1] === 'remote') [sa.remoteId, sa.remoteHost] = [peer[2], peer[3]];
    const childLine = line.match(/^ {2}(\S+): #\d+, reqid \d+, (\w+), (\S+),/);
    if (childLine) {
      child = { name: childLine[1], state: childLine[2], mode: childLine[3], inPackets: 0, outPackets: 0, localTs: [], remoteTs: [] };
      sa.children.push(child);
      continue;
    }
    const traffic = line.match(/^ {4}(in|out)\s+\S+,\s+\d+ bytes,\s+(\d+) packets/);
    if (child && traffic) child[traffic[1] === 'in' ? 'inPackets' : 'outPackets'] = Number(traffic[2]);
    const selectors = line.match(/^ {4}(local|remote)\s+(.+)$/);
    if (child && selectors) child[selectors[1] === 'local' ? 'localTs' : 'remoteTs'] = selectors[2].trim().split(/\s+/);
  }
  return sas;
}

// ---- checks the Part 5 labs share ----

const SECTION = /^=== (\w+)$/m;
// A check's output made of sections, each opened by a line "=== name".
export function sections(out: CommandOutput) {
  const parts = out.stdout.split(SECTION);
  const found: Record<string, string> = {};
  for (let i = 1; i < parts.length; i += 2) found[parts[i]] = parts[i + 1].trim();
  return found;
}

// The IKE SA of one gateway, established with IKEv2 to the other gateway, and its child SA
// installed between the two subnets (in either order of listing).
export function tunnelEstablished(side: Side) {
  const peer = peerOf(side);
  return {
    name: `gw-${side} has an IKEv2 SA with gw-${peer} and a child SA between ${subnetOf(side)} and ${subnetOf(peer)}`,
    run: `${swanctl(side, '--list-sas')} 2>&1`,
    pass: (out: CommandOutput) => {
      if (out.exitCode !== 0) {
        if (/connecting to .* failed/.test(out.stdout)) return `No charon answers on gw-${side}'s vici socket (${viciUri(side)}): start it with \`/root/vpn/start-gateway ${side}\`.`;
        return `\`swanctl --list-sas\` failed on gw-${side}: ${out.stdout.trim().split('\n')[0]}`;
      }
      const sas = parseSas(out.stdout);
      if (sas.length === 0) return `gw-${side}'s charon has no IKE SA: load its configuration (\`swanctl --load-all --file ${vpnDir(side)}/swanctl.conf --uri ${viciUri(side)}\`) and look at ${vpnDir(side)}/charon.log.`;
      const sa = sas.find((candidate) => candidate.remoteHost === wanOf(peer)) ?? sas[0];
      if (sa.remoteHost !== wanOf(peer)) return `gw-${side}'s IKE SA is with ${sa.remoteHost}, not gw-${peer} (${wanOf(peer)}).`;
      if (sa.state !== 'ESTABLISHED') return `gw-${side}'s IKE SA with gw-${peer} is ${sa.state}, not ESTABLISHED: ${vpnDir(side)}/charon.log says why.`;
      if (sa.version !== 'IKEv2') return `gw-${side}'s IKE SA uses ${sa.version}: this course's gateways speak IKEv2 (\`version = 2\`).`;
      const child = sa.children.find((candidate) => candidate.state === 'INSTALLED');
      if (!child) return `The IKE SA is up, but no child SA is INSTALLED on gw-${side}: the ESP SAs that carry the traffic are missing. Mismatched \`esp_proposals\` or traffic selectors? See ${vpnDir(side)}/charon.log.`;
      const covers = (selectors: string[], subnet: string) => selectors.includes(subnet);
      if (!covers(child.localTs, subnetOf(side)) || !covers(child.remoteTs, subnetOf(peer))) {
        return `gw-${side}'s child SA joins ${child.localTs.join(' ')} to ${child.remoteTs.join(' ')}: its traffic selectors should be ${subnetOf(side)} (local_ts) and ${subnetOf(peer)} (remote_ts).`;
      }
      return true;
    },
  };
}

// vm-cloud pings srv-onprem, and gw-cloud's child SA counts the packets: the ping went through ESP.
export const reachesThroughTunnel = {
  name: `vm-cloud reaches srv-onprem (${SRV_ONPREM}), and the pings travel through the child SA`,
  run: sh`
    echo "=== before"; ${swanctl('cloud', '--list-sas')} 2>/dev/null
    echo "=== replies"; echo ${pingsAnswered('vm-cloud', SRV_ONPREM, '-c 3 -i 0.2', 4)}
    echo "=== after"; ${swanctl('cloud', '--list-sas')} 2>/dev/null`,
  pass: (out: CommandOutput) => {
    const found = sections(out);
    const outPackets = (text = '') => parseSas(text).flatMap((sa) => sa.children).reduce((sum, child) => sum + child.outPackets, 0);
    if (!Number(found.replies)) return `vm-cloud's pings to ${SRV_ONPREM} got no answer: with the tunnel up, check the hosts' default routes and forwarding in the gateways (\`ip -n gw-cloud route show table 220\` holds the route charon adds for the tunnel).`;
    const sent = outPackets(found.after) - outPackets(found.before);
    return sent >= 3 || `vm-cloud's pings were answered, but gw-cloud's child SA sent only ${sent} packets meanwhile: they went some other way, in the clear.`;
  },
  timeoutMs: 10_000,
  live: false,
};
