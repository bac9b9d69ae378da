import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { counterGroups, placeName, SOFTNET_COLUMNS, type CounterSpec, type LinkStat } from '../../labs/counters.ts';

// How the live counters of a lab are read in a sandbox, and what the server makes of them: a bash
// loop in the sandbox (counter-reader.sh) prints a line of raw counter values each time the server
// sends it a line, the server parses that line (parseSample) and turns two samples into rates
// (ratesBetween). The counters are the learner's own sandbox's: its root can fake them, for
// itself alone, so every line is parsed as untrusted input.

const READER_SOURCE = new URL('./counter-reader.sh', import.meta.url);
// The sandbox sees the service dir at /run/wirelab (Sandbox.serviceDir); its root cannot write there.
export const READER_IN_SANDBOX = '/run/wirelab/counter-reader.sh';

type ProbedSpec = Exclude<CounterSpec, { kind: 'softnet' }>;

// The command that reads a spec's counters in the sandbox, once a sample.
function probeCommand(spec: ProbedSpec) {
  const n = spec.namespace ? `-n ${spec.namespace} ` : '';
  const inNamespace = spec.namespace ? `ip netns exec ${spec.namespace} ` : '';
  switch (spec.kind) {
    // ip and tc enter the namespace themselves (-n): one process instead of two.
    case 'link':
      return `ip ${n}-s -j link show dev ${spec.device}`;
    case 'qdisc':
      return `tc ${n}-s -j qdisc show dev ${spec.device}`;
    // -a: absolute values, -s: no history file, -z: zeros too.
    case 'snmp':
      return `${inNamespace}nstat -asz --json`;
    case 'xdp':
      return `${inNamespace}ethtool -S ${spec.device}`;
  }
}

// The probe commands of a set of specs (specs that need the same command share it), and which one each spec reads.
function probesOf(specs: readonly CounterSpec[]) {
  const commands: string[] = [];
  const probeOfSpec = specs.map((spec) => {
    if (spec.kind === 'softnet') return -1;
    const command = probeCommand(spec);
    if (!commands.includes(command)) commands.push(command);
    return commands.indexOf(command);
  });
  return { commands, probeOfSpec };
}

// Puts the reader in a sandbox's service dir and gives the command line that runs it for these specs.
// A file rather than `bash -c`, so that a learner's `ps` shows what reads their counters, and `cat` shows how.
export function installReader(serviceDir: string, specs: readonly CounterSpec[]) {
  fs.copyFileSync(READER_SOURCE, path.join(serviceDir, path.basename(READER_IN_SANDBOX)));
  const softnet = specs.some((spec) => spec.kind === 'softnet') ? 'softnet' : '-';
  return ['bash', READER_IN_SANDBOX, softnet, ...probesOf(specs).commands];
}

// A counter's raw value: one number, or one per CPU (softnet); undefined when the device or the
// kernel has no such counter.
type Reading = number | number[] | undefined;
// One group of the panel (a spec) in one sample: its counters in the order counterGroups gives, or why there are none.
type GroupReading = { counters: Reading[] } | { waiting: string };

export interface Sample {
  t: number;
  groups: GroupReading[];
}

export class UnreadableSample extends Error {}

const ReaderLine = z.strictObject({
  t: z.number(),
  softnet: z.array(z.string().max(1024)).max(4096),
  probes: z.array(z.string().nullable()),
});

const IpLinks = z.array(
  z.object({
    ifname: z.string(),
    stats64: z.object({ rx: z.record(z.string(), z.number()), tx: z.record(z.string(), z.number()) }),
  }),
);
const Qdiscs = z.array(z.object({ root: z.boolean().optional(), packets: z.number(), drops: z.number() }));
const Nstat = z.object({ kernel: z.record(z.string(), z.number()) });

// Parses one line of the reader for these specs (the ones its script was made from).
export function parseSample(line: string, specs: readonly CounterSpec[]): Sample {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new UnreadableSample(`not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  const parsed = ReaderLine.safeParse(raw);
  const { probeOfSpec, commands } = probesOf(specs);
  if (!parsed.success || parsed.data.probes.length !== commands.length) throw new UnreadableSample(`not a sample: ${JSON.stringify(line.slice(0, 80))}`);
  const { t, softnet, probes } = parsed.data;
  const groups = counterGroups(specs);
  return {
    t,
    groups: specs.map((spec, index) => {
      const names = groups[index].series.map((series) => series.name);
      if (spec.kind === 'softnet') return { counters: softnetColumns(softnet, names) };
      const output = probes[probeOfSpec[index]];
      const place = spec.kind !== 'snmp' ? placeName(spec.device, spec.namespace) : spec.namespace ? `namespace ${spec.namespace}` : 'the sandbox';
      if (output === null) return { waiting: `waiting for ${place}` };
      try {
        return readProbe(spec, output, names) ?? { waiting: `waiting for ${place}` };
      } catch {
        return { waiting: `could not read the counters of ${place}: ${probeCommand(spec)} printed something else` };
      }
    }),
  };
}

// The counters of one spec from its probe's output; null when the device is not there yet.
function readProbe(spec: ProbedSpec, output: string, names: string[]): GroupReading | null {
  switch (spec.kind) {
    case 'link': {
      const link = IpLinks.parse(JSON.parse(output)).find((candidate) => candidate.ifname === spec.device);
      if (!link) return null;
      return {
        counters: names.map((name) => {
          const [direction, field] = (name as LinkStat).split('_') as ['rx' | 'tx', string];
          return link.stats64[direction][field];
        }),
      };
    }
    case 'qdisc': {
      const qdiscs = Qdiscs.parse(JSON.parse(output));
      const root = qdiscs.find((qdisc) => qdisc.root) ?? qdiscs[0];
      if (!root) return null;
      return { counters: [root.packets, root.drops] };
    }
    case 'snmp': {
      const { kernel } = Nstat.parse(JSON.parse(output));
      return { counters: names.map((name) => kernel[name]) };
    }
    case 'xdp': {
      const counters = ethtoolStatistics(output);
      return { counters: names.map((name) => counters.get(name)) };
    }
  }
}

// `ethtool -S` prints "     rx_queue_0_xdp_drops: 3" lines; per-queue counters are summed under
// their name without the queue (rx_xdp_drops).
export function ethtoolStatistics(output: string) {
  const totals = new Map<string, number>();
  for (const [, name, value] of output.matchAll(/^\s*([\w-]+): (\d+)$/gm)) {
    const key = name.replace(/^(rx|tx)_queue_\d+_/, '$1_');
    totals.set(key, (totals.get(key) ?? 0) + Number(value));
  }
  return totals;
}

// Each requested column of softnet_stat, one hex number per CPU line.
function softnetColumns(lines: string[], names: string[]): number[][] {
  const rows = lines.map((line) => line.trim().split(/\s+/).map((field) => Number.parseInt(field, 16)));
  return names.map((name) => rows.map((row) => row[SOFTNET_COLUMNS[name as keyof typeof SOFTNET_COLUMNS]] ?? 0));
}

// A counter's rate, per second: null when unknown (no earlier value, or the counter was reset).
type Rate = number | number[] | null;
type GroupRates = { rates: Rate[] } | { waiting: string };

export interface CounterUpdate {
  t: number;
  groups: GroupRates[];
}

// The rates between two samples of the same reader.
export function ratesBetween(before: Sample | undefined, after: Sample): CounterUpdate {
  const seconds = before ? after.t - before.t : 0;
  return {
    t: after.t,
    groups: after.groups.map((group, index) => {
      if ('waiting' in group) return group;
      const earlier = before?.groups[index];
      const previous = earlier && 'counters' in earlier ? earlier.counters : [];
      return { rates: group.counters.map((reading, series) => rate(previous[series], reading, seconds)) };
    }),
  };
}

function rate(before: Reading, after: Reading, seconds: number): Rate {
  if (before === undefined || after === undefined || !(seconds > 0)) return null;
  if (typeof before === 'number' && typeof after === 'number') return perSecond(before, after, seconds);
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    const perCpu = after.map((value, cpu) => perSecond(before[cpu], value, seconds));
    return perCpu.every((value) => value !== null) ? (perCpu as number[]) : null;
  }
  return null;
}

function perSecond(before: number, after: number, seconds: number) {
  let delta = after - before;
  // softnet_stat's counters are 32 bits and wrap (at a million packets a second, every 71 minutes).
  // Any other counter that goes down was reset (its device deleted and made again): no rate this time.
  if (delta < 0 && before < 2 ** 32) delta = delta + 2 ** 32 < 2 ** 31 ? delta + 2 ** 32 : -1;
  if (!(delta >= 0)) return null;
  return Math.round((delta / seconds) * 100) / 100;
}
