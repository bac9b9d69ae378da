import { z } from 'zod';

// What a lab's live counters panel shows (`counters` in lab.ts, `<Counters lab="…" />` in a chapter):
// a few kernel counters, read once a second in the learner's own sandbox and drawn as rates. A file
// of its own, apart from define-lab.ts, because the page and the server read it alike.

// Columns of /proc/net/softnet_stat (softnet_seq_show() in net/core/net-procfs.c), by position.
export const SOFTNET_COLUMNS = { processed: 0, dropped: 1, time_squeeze: 2, received_rps: 9, flow_limit_count: 10 } as const;
type SoftnetColumn = keyof typeof SOFTNET_COLUMNS;

// Files of /sys/class/net/<device>/statistics (struct rtnl_link_stats64).
const LINK_STATS = ['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes', 'rx_dropped', 'tx_dropped', 'rx_errors', 'tx_errors'] as const;
export type LinkStat = (typeof LINK_STATS)[number];

// veth's XDP counters as `ethtool -S` names them, with the queue number left out (rx_queue_0_xdp_drops
// is rx_xdp_drops, summed over queues): the labs' XDP programs all run on veth.
const VETH_XDP_COUNTERS = ['rx_xdp_packets', 'rx_xdp_drops', 'rx_xdp_redirect', 'rx_xdp_tx'];

const namespace = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a network namespace name: lower case, at most 15 characters');
// dev_valid_name() allows more; these are the names the course uses, and they need no quoting in shell.
const device = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'a device name: letters, digits, "_", "." or "-", at most 15 characters');
const counterName = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'a counter name as nstat or ethtool -S prints it');

// `namespace` left out means the sandbox's own network namespace (the "lab" tab).
export const CounterSpecSchema = z.discriminatedUnion('kind', [
  // Host-wide: the kernel keeps one softnet_data per CPU for every namespace at once.
  z.strictObject({ kind: z.literal('softnet'), columns: z.array(z.enum(Object.keys(SOFTNET_COLUMNS) as [SoftnetColumn, ...SoftnetColumn[]])).min(1).optional() }),
  z.strictObject({ kind: z.literal('link'), namespace: namespace.optional(), device, stats: z.array(z.enum(LINK_STATS)).min(1).optional() }),
  // The root qdisc's counters (`tc -s qdisc show dev …`): veth's default, noqueue, counts nothing.
  z.strictObject({ kind: z.literal('qdisc'), namespace: namespace.optional(), device }),
  // Per-namespace MIB counters of /proc/net/snmp and /proc/net/netstat, named as nstat names them.
  z.strictObject({ kind: z.literal('snmp'), namespace: namespace.optional(), names: z.array(counterName).min(1) }),
  z.strictObject({ kind: z.literal('xdp'), namespace: namespace.optional(), device, names: z.array(counterName).min(1).optional() }),
]);
export type CounterSpec = z.infer<typeof CounterSpecSchema>;

// How a rate reads: packets and bytes flow; 'trouble' counters (drops, squeezes, errors) should stay at zero.
export type CounterUnit = 'packets' | 'bytes' | 'events';
interface CounterSeries {
  // The counter's own name: what the learner would cat or grep for.
  name: string;
  unit: CounterUnit;
  trouble: boolean;
}

export interface CounterGroup {
  title: string;
  scope: string;
  series: CounterSeries[];
}

const TROUBLE = /drop|error|squeeze|limit|fail/i;

function series(name: string, unit: CounterUnit): CounterSeries {
  return { name, unit, trouble: TROUBLE.test(name) };
}

// "veth-b in blue", or "veth-b" in the sandbox's own namespace.
export function placeName(device: string, namespace: string | undefined) {
  return namespace ? `${device} in ${namespace}` : device;
}

// The groups of rates the panel shows, in the lab's order (softnet's per CPU); the server sends rates in the same shape.
export function counterGroups(specs: readonly CounterSpec[]): CounterGroup[] {
  return specs.map((spec) => {
    switch (spec.kind) {
      case 'softnet':
        return {
          title: 'softnet_stat, per CPU',
          scope: 'whole machine: every learner\'s packets',
          // time_squeeze counts NAPI rounds cut short, received_rps the IPIs that woke a CPU: not packets.
          series: (spec.columns ?? ['processed', 'dropped', 'time_squeeze']).map((column) => series(column, column === 'time_squeeze' || column === 'received_rps' ? 'events' : 'packets')),
        };
      case 'link':
        return {
          title: placeName(spec.device, spec.namespace),
          scope: 'your sandbox',
          series: (spec.stats ?? ['rx_packets', 'tx_packets', 'rx_dropped', 'tx_dropped']).map((stat) => series(stat, stat.endsWith('bytes') ? 'bytes' : 'packets')),
        };
      case 'qdisc':
        return { title: `qdisc of ${placeName(spec.device, spec.namespace)}`, scope: 'your sandbox', series: [series('sent', 'packets'), series('dropped', 'packets')] };
      case 'snmp':
        return { title: `MIB counters${spec.namespace ? ` in ${spec.namespace}` : ''}`, scope: 'your sandbox', series: spec.names.map((name) => series(name, 'events')) };
      case 'xdp':
        return {
          title: `XDP on ${placeName(spec.device, spec.namespace)}`,
          scope: 'your sandbox',
          series: (spec.names ?? VETH_XDP_COUNTERS).map((name) => series(name, name.endsWith('bytes') ? 'bytes' : 'packets')),
        };
    }
  });
}
