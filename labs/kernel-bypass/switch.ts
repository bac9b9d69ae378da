// The lab's switch, as the checks of both forwarders see it: its two ports and that nothing but
// the forwarder under test joins them.
import { json, sh, type CommandOutput } from '../define-lab.ts';
import { xdpAttachments, type XdpLink } from '../xdp-attachment.ts';

// /run/bpf rather than /sys/fs/bpf: `ip netns exec` mounts a fresh /sys and hides the bpffs there.
export const PIN_DIR = '/run/bpf/xsk';
export const PROG = `${PIN_DIR}/prog`;
export const MAP = `${PIN_DIR}/xsks`;
export const SCRIPT = '/root/dpdk-forward.sh';
export const XSK_LOG = '/root/xsk_fwd.log';
export const PORTS = ['port-left', 'port-right'] as const;
export type Port = (typeof PORTS)[number];
// How long the checker lets the learner's script run testpmd: long enough for EAL to start (0.3 s
// measured) and a few pings at 0.2 s intervals.
export const TESTPMD_SECONDS = 5;

export const gone = 'The switch or one of its ports is gone: press Reset to get the lab back.';

export interface Link extends XdpLink {
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string }[];
}

// "name=value" lines; the last value of each name wins.
export function valuesOf(out: CommandOutput) {
  const values: Record<string, string> = {};
  for (const line of out.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0 && /^[a-z_-]+$/.test(line.slice(0, at))) values[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return values;
}

export const switchState = sh`
  printf '{"links":%s,"forwarding":%s}' \\
    "$(ip -n switch -j -d addr show 2>/dev/null || echo null)" \\
    "$(ip netns exec switch sysctl -n net.ipv4.ip_forward 2>/dev/null || echo null)"`;

// The forwarder under test must be the only path between the ports. For testpmd that also rules out
// an XDP program: a frame XDP redirects or drops never reaches testpmd's packet sockets.
export function noOtherPath({ xdpAllowed }: { xdpAllowed: boolean }) {
  return (out: CommandOutput) => {
    const { links, forwarding } = json<{ links: Link[] | null; forwarding: number | null }>(out);
    if (!links || forwarding === null || PORTS.some((port) => !links.some((link) => link.ifname === port))) return gone;
    const bridge = links.find((link) => link.linkinfo?.info_kind === 'bridge');
    if (bridge) return `The switch has a bridge, ${bridge.ifname}: here a userspace forwarder must do the switching alone. Remove it with \`ip -n switch link del ${bridge.ifname}\`.`;
    const enslaved = links.find((link) => link.master);
    if (enslaved) return `${enslaved.ifname} is enslaved to ${enslaved.master}: set it free with \`ip -n switch link set dev ${enslaved.ifname} nomaster\`.`;
    for (const port of PORTS) {
      const link = links.find((l) => l.ifname === port)!;
      const address = link.addr_info?.find((a) => a.family === 'inet');
      if (address) return `${port} has the IPv4 address ${address.local}: the switch's ports must stay without one, so that its stack cannot take part. Remove it with \`ip -n switch addr flush dev ${port}\`.`;
      if (!xdpAllowed && xdpAttachments(link).length > 0) {
        return `${port} has an XDP program attached (the AF_XDP exercise's?): what it redirects never reaches testpmd's packet sockets. Stop xsk_fwd (\`pkill -x xsk_fwd\`) and detach it: \`ip -n switch link set dev ${port} xdp off\`.`;
      }
    }
    if (Number(forwarding) !== 0) return 'net.ipv4.ip_forward is on in the switch: turn it off (`ip netns exec switch sysctl -w net.ipv4.ip_forward=0`), the userspace forwarder must be the only path.';
    return true;
  };
}

export const noOtherPathName = (what: string) => `the switch has no other path: no bridge, no IPv4 address on its ports, no IP forwarding${what}`;
export const noOtherPathReason = 'the switch starts as two bare ports; the check guards against a bridge or routing doing the forwarder\'s job';
