import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Engine } from '../engine/engine.ts';
import { COMPILE } from '../../labs/bpf.ts';
import type { KernelFeature } from '../../labs/define-lab.ts';
import { ensureTracefs } from '../mediation/tracing.ts';

const run = promisify(execFile);

// Each feature is probed by doing the thing, inside a throwaway sandbox, exactly as a lab would:
// a config file can say a feature is built, but only trying shows it works in a sandbox here.
// Tracing is the exception: the server does it on the host for the learner (server/mediation/tracing.ts), so
// it is probed on the host.
const SANDBOX_PROBES: Record<Exclude<KernelFeature, HostFeature>, string> = {
  netns: 'ip netns add probe && ip netns del probe',
  veth: 'ip link add probe-a type veth peer name probe-b && ip link del probe-a',
  bridge: 'ip link add probe-br type bridge && ip link del probe-br',
  // Loading and attaching real programs, through the sandbox's token as a lab does (bpftool's own
  // feature probe passes no token, so in a user-namespace sandbox it reports every type missing).
  bpf: 'bpftool prog load /tmp/probe.o /sys/fs/bpf/probe type xdp && rm /sys/fs/bpf/probe',
  xdp: 'ip link add probe-x type veth peer name probe-y && ip link set dev probe-x xdp obj /tmp/probe.o sec xdp',
  'tc-bpf': 'ip link add probe-t type veth peer name probe-u && tc qdisc add dev probe-t clsact && tc filter add dev probe-t ingress bpf direct-action obj /tmp/probe.o sec tc',
  nftables: 'nft add table inet probe && nft delete table inet probe',
  tun: 'ip tuntap add dev probe-tun mode tun && ip tuntap del dev probe-tun mode tun',
  esp: `ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 enc 'cbc(aes)' 0x$(printf '%032d' 0) auth 'hmac(sha256)' 0x$(printf '%064d' 0)`,
};

// The BPF probes' program: one object with an XDP and a tc section that pass everything.
const PROBE_PROGRAM = `cat > /tmp/probe.c <<'END'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int tc_pass(struct __sk_buff *skb) { return 0; }
char LICENSE[] SEC("license") = "GPL";
END
${COMPILE} -c /tmp/probe.c -o /tmp/probe.o 2>/dev/null`;

type HostFeature = 'tracepoints' | 'kprobes';
const HOST_PROBES: Record<HostFeature, string> = {
  tracepoints: 'command -v bpftrace && test -d /sys/kernel/tracing/events/net/netif_receive_skb',
  kprobes: 'command -v bpftrace && test -e /sys/kernel/tracing/kprobe_events',
};

// Modules a lab feature may live in, on hosts that build them as modules (this one builds none).
const MODULES = ['veth', 'bridge', 'tun', 'nf_tables', 'xfrm_user', 'esp4', 'sch_ingress', 'cls_bpf'];

export type KernelSupport = ReadonlyMap<KernelFeature, boolean>;

export async function probeKernelFeatures(engine: Engine): Promise<KernelSupport> {
  await run('modprobe', ['-a', '-q', ...MODULES]).catch(() => {});
  await ensureTracefs();
  const support = new Map<KernelFeature, boolean>();
  const record = (output: string) => {
    for (const line of output.trim().split('\n')) {
      const [feature, answer] = line.split(' ');
      support.set(feature as KernelFeature, answer === 'yes');
    }
  };
  record((await run('bash', ['-c', probeScript(HOST_PROBES)])).stdout);
  const sandbox = await engine.create({ purpose: 'kernel-probe' });
  try {
    const result = await engine.exec(sandbox.id, ['bash', '-c', `${PROBE_PROGRAM}\n${probeScript(SANDBOX_PROBES)}`], { timeoutMs: 20_000, maxOutputBytes: 64 * 1024 });
    record(result.stdout);
    return support;
  } finally {
    await engine.destroy(sandbox.id);
  }
}

function probeScript(probes: Record<string, string>) {
  return Object.entries(probes)
    .map(([feature, probe]) => `if (${probe}) >/dev/null 2>&1; then echo "${feature} yes"; else echo "${feature} no"; fi`)
    .join('\n');
}

// Without a probe result (the probe itself failed) nothing is known to be missing: the lab then
// fails at start with the sandbox's own error instead of being hidden.
export function missingFeatures(support: KernelSupport | null, required: readonly KernelFeature[]) {
  if (!support) return [];
  return required.filter((feature) => support.get(feature) !== true);
}
