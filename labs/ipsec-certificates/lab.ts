import { defineLab, sh, type CommandOutput } from '../define-lab.ts';
import {
  cabledSites, gatewayFiles, peerOf, pskTunnel, reachesThroughTunnel, routeTheSites, sections, SIDES, SITE_HOSTS, startTunnel, steps,
  swanctl, swanctlConf, vpnDir, writeFile, type Side,
} from '../vpc.ts';

// What `swanctl --list-certs` shows, per certificate: subject, issuer, whether the private key is here.
interface Certificate { kind: 'end entity' | 'CA'; subject: string; issuer: string; hasPrivateKey: boolean }

function parseCertificates(text: string) {
  const certificates: Certificate[] = [];
  let kind: Certificate['kind'] = 'end entity';
  for (const line of text.split('\n')) {
    if (/^List of X\.509 End Entity/.test(line)) kind = 'end entity';
    if (/^List of X\.509 CA/.test(line)) kind = 'CA';
    const subject = line.match(/^ {2}subject:\s+"(.*)"/);
    if (subject) certificates.push({ kind, subject: subject[1], issuer: '', hasPrivateKey: false });
    const current = certificates.at(-1);
    const issuer = line.match(/^ {2}issuer:\s+"(.*)"/);
    if (current && issuer) current.issuer = issuer[1];
    if (current && /^ {2}pubkey:.*has private key/.test(line)) current.hasPrivateKey = true;
  }
  return certificates;
}

function ownCertificate(side: Side) {
  return {
    name: `gw-${side} holds a certificate for gw-${side}, its private key, and the CA that issued it`,
    run: `${swanctl(side, '--list-certs')} 2>&1`,
    pass: (out: CommandOutput) => {
      if (out.exitCode !== 0) return `No charon answers on gw-${side}'s vici socket: start it with \`/root/vpn/start-gateway ${side}\`.`;
      const certificates = parseCertificates(out.stdout);
      const own = certificates.find((cert) => cert.kind === 'end entity' && cert.hasPrivateKey);
      if (!own) return `gw-${side}'s charon holds no certificate with its private key: put the certificate in ${vpnDir(side)}/x509/, the key in ${vpnDir(side)}/private/, and load them (\`swanctl --load-all --file ${vpnDir(side)}/swanctl.conf --uri …\`).`;
      if (!own.subject.includes(`gw-${side}`)) return `gw-${side}'s own certificate is for "${own.subject}", not for gw-${side}.`;
      if (own.issuer === own.subject) return `gw-${side}'s certificate is self-signed: issue it with your CA (\`pki --issue --cacert … --cakey …\`), so that each gateway trusts the other through the CA.`;
      const ca = certificates.find((cert) => cert.kind === 'CA' && cert.subject === own.issuer);
      return Boolean(ca) || `gw-${side}'s certificate was issued by "${own.issuer}", but that CA's certificate is not loaded: copy it into ${vpnDir(side)}/x509ca/ and load again.`;
    },
  };
}

const noSecrets = {
  name: 'the pre-shared key is gone from both gateways\' swanctl.conf',
  run: SIDES.map((side) => `echo "=== ${side}"; grep -n -i -E 'secret|psk' ${vpnDir(side)}/swanctl.conf`).join('\n'),
  pass: (out: CommandOutput) => {
    const found = sections(out);
    const left = SIDES.filter((side) => found[side]);
    return left.length === 0 || `${left.map((side) => `${vpnDir(side)}/swanctl.conf still says: ${found[side].split('\n')[0].trim()}`).join('; ')}. Remove the PSK (the secrets section and any \`auth = psk\`).`;
  },
};

// The checker restarts the tunnel from gw-cloud with whatever configuration is loaded now, so the
// SA it sees was authenticated by that configuration, not left over from the PSK days.
const restartsWithCertificates = {
  name: 'a restarted tunnel authenticates both gateways by public key',
  run: sh`
    conns=$(${swanctl('cloud', '--list-conns')} 2>&1)
    echo "=== conns"; echo "$conns"
    ike=$(echo "$conns" | sed -n 's/^\\([^ :]*\\): IKEv2.*/\\1/p' | head -n 1)
    child=$(echo "$conns" | sed -n 's/^  \\([^ :]*\\): TUNNEL.*/\\1/p' | head -n 1)
    [ -n "$ike" ] && [ -n "$child" ] || exit 0
    echo "=== onprem"; ${swanctl('onprem', '--list-conns')} 2>&1
    ${swanctl('cloud', '--terminate --ike "$ike" --timeout 3')} >/dev/null 2>&1
    echo "=== initiate"; ${swanctl('cloud', '--initiate --child "$child" --timeout 8')} 2>&1 | tail -n 3`,
  pass: (out: CommandOutput) => {
    const found = sections(out);
    if (!found.conns || !/: IKEv2/.test(found.conns)) return 'gw-cloud\'s charon has no connection loaded: load its swanctl.conf.';
    for (const side of SIDES) {
      const conns = side === 'cloud' ? found.conns : found.onprem ?? '';
      if (/pre-shared key authentication/.test(conns)) return `gw-${side}'s connection still authenticates with a pre-shared key: set \`auth = pubkey\` on both its local and remote ends, and load the file again.`;
      if (!/local public key authentication/.test(conns) || !/remote public key authentication/.test(conns)) return `gw-${side}'s connection does not use public-key authentication on both ends (\`swanctl --list-conns\`).`;
    }
    if (!/initiate completed successfully/.test(found.initiate ?? '')) {
      return `The checker restarted the tunnel from gw-cloud and it did not come back: "${(found.initiate ?? '').split('\n').at(-1)}". charon.log on both gateways says why (an unknown CA? an id that does not match the certificate?).`;
    }
    return true;
  },
  timeoutMs: 20_000,
  live: false,
};

// The reference solution: a CA, a certificate per gateway, and the PSK configuration rewritten
// for public keys (the certificates carry the gateways' ids as subjectAltNames).
const pubkeyAuth = (side: Side) => `local {
  auth = pubkey
  id = gw-${side}
  certs = gw-${side}.crt
}
remote {
  auth = pubkey
  id = gw-${peerOf(side)}
}`;
const certificateSolution = steps(
  sh`
    cd /root/vpn
    mkdir -p ca
    pki --gen --type ecdsa --size 256 --outform pem > ca/ca.key
    pki --self --ca --lifetime 3650 --in ca/ca.key --dn "CN=VPC root CA" --outform pem > ca/ca.crt
    for side in ${SIDES.join(' ')}; do
      pki --gen --type ecdsa --size 256 --outform pem > $side/private/gw-$side.key
      pki --req --in $side/private/gw-$side.key --dn "CN=gw-$side" --san gw-$side --outform pem > ca/gw-$side.csr
      pki --issue --cacert ca/ca.crt --cakey ca/ca.key --type pkcs10 --in ca/gw-$side.csr --san gw-$side --lifetime 365 --outform pem > $side/x509/gw-$side.crt
      cp ca/ca.crt $side/x509ca/
    done`,
  writeFile('/root/vpn/cloud/swanctl.conf', swanctlConf('cloud', pubkeyAuth('cloud'), '')),
  writeFile('/root/vpn/onprem/swanctl.conf', swanctlConf('onprem', pubkeyAuth('onprem'), '')),
  startTunnel,
  sh`
    ${swanctl('cloud', '--terminate --ike onprem --timeout 3')}
    ${swanctl('cloud', '--initiate --child sites --timeout 8')}`,
);

export default defineLab({
  id: 'ipsec-certificates',
  title: 'Certificates instead of a shared key',
  requires: ['netns', 'veth', 'bridge', 'tun'],
  hosts: SITE_HOSTS,
  setup: steps(cabledSites, routeTheSites, gatewayFiles(), pskTunnel),
  exercises: [
    {
      id: 'certificates',
      title: 'A small CA, a certificate per gateway, no more PSK',
      task: sh`
        The tunnel from the last lab is up, authenticated by a pre-shared key that both gateways'
        \`swanctl.conf\` hold in the clear. Replace it with certificates, as a real site-to-site VPN
        would: anyone who reads one gateway's disk can impersonate the other with a PSK, while a
        gateway's private key proves only that gateway.

        With strongSwan's \`pki\` tool, make a certificate authority (a key and a self-signed CA
        certificate), then for each gateway a key and a certificate issued by your CA whose
        subjectAltName is the gateway's id (\`--san gw-cloud\`). Each gateway needs, beside its
        swanctl.conf: its certificate in \`x509/\`, its key in \`private/\`, the CA's certificate in
        \`x509ca/\` (swanctl looks in these directories next to the file it loads).

        Then switch both connections to \`auth = pubkey\` (with \`certs = …\` on the local end), delete
        the secrets section, load both files again and restart the tunnel. The checker restarts it
        once more itself, to be sure the new SA was authenticated by what is loaded now.`,
      checks: [
        ownCertificate('cloud'),
        ownCertificate('onprem'),
        noSecrets,
        restartsWithCertificates,
        reachesThroughTunnel,
      ],
      initiallyPassing: {
        [reachesThroughTunnel.name]: 'the PSK tunnel is up at the start; the check guards against breaking it on the way to certificates',
      },
      hint: sh`
        \`pki --gen --type ecdsa --size 256 --outform pem > ca.key\`, then
        \`pki --self --ca --in ca.key --dn "CN=VPC root CA" --outform pem > ca.crt\`. For each gateway:
        \`pki --gen … > cloud/private/gw-cloud.key\`, \`pki --req --in … --dn "CN=gw-cloud" --san gw-cloud > gw-cloud.csr\`,
        \`pki --issue --cacert ca.crt --cakey ca.key --type pkcs10 --in gw-cloud.csr --san gw-cloud > cloud/x509/gw-cloud.crt\`.
        After editing, \`swanctl --load-all\` both, then \`swanctl --terminate --ike onprem\` and
        \`swanctl --initiate --child sites\` on gw-cloud. charon.log shows "authentication of … with ECDSA… successful".`,
      solution: certificateSolution,
    },
  ],
});
