import { validateLab, type Lab } from './define-lab.ts';
import bridgeSwitch from './bridge-switch/lab.ts';
import groMerge from './gro-merge/lab.ts';
import gatewayGuard from './gateway-guard/lab.ts';
import helloXdp from './hello-xdp/lab.ts';
import ipsecCertificates from './ipsec-certificates/lab.ts';
import ipsecTunnel from './ipsec-tunnel/lab.ts';
import ipsecXfrm from './ipsec-xfrm/lab.ts';
import kernelBypass from './kernel-bypass/lab.ts';
import napiBusyPoll from './napi-busy-poll/lab.ts';
import netnsVeth from './netns-veth/lab.ts';
import orientation from './orientation/lab.ts';
import pcap from './pcap/lab.ts';
import router from './router/lab.ts';
import rpsSpread from './rps-spread/lab.ts';
import rxPath from './rx-path/lab.ts';
import shapingTbf from './shaping-tbf/lab.ts';
import softirqFlood from './softirq-flood/lab.ts';
import tcRewrite from './tc-rewrite/lab.ts';
import tcpService from './tcp-service/lab.ts';
import tunnelMtu from './tunnel-mtu/lab.ts';
import udpOverflow from './udp-overflow/lab.ts';
import verifierFix from './verifier-fix/lab.ts';
import vpcSites from './vpc-sites/lab.ts';
import xdpBlocklist from './xdp-blocklist/lab.ts';
import xdpCount from './xdp-count/lab.ts';
import xdpRedirect from './xdp-redirect/lab.ts';
import xdpTxBounce from './xdp-tx-bounce/lab.ts';

// Every lab of the course. A lab is listed here once; the pages, the grader and the self-test
// all find it through this registry.
const definitions: Lab[] = [
  orientation,
  netnsVeth, bridgeSwitch, router, tcpService,
  rxPath, udpOverflow, pcap,
  rpsSpread, groMerge, napiBusyPoll, shapingTbf, softirqFlood,
  helloXdp, xdpCount, xdpBlocklist, xdpTxBounce, xdpRedirect, tcRewrite, verifierFix, kernelBypass,
  vpcSites, ipsecTunnel, ipsecCertificates, gatewayGuard, tunnelMtu, ipsecXfrm,
];

export const labs: ReadonlyMap<string, Lab> = new Map(
  definitions.map((definition) => {
    const lab = validateLab(definition, `labs/${definition.id}/lab.ts`);
    return [lab.id, lab];
  }),
);

export function findLab(labId: string) {
  return labs.get(labId);
}

export function findExercise(labId: string, exerciseId: string) {
  const lab = labs.get(labId);
  const exercise = lab?.exercises.find((candidate) => candidate.id === exerciseId);
  return lab && exercise ? { lab, exercise } : undefined;
}
