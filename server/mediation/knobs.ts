import fs from 'node:fs';
import os from 'node:os';
import { log } from '../ops/log.ts';

// Knobs a lab teaches that root in a user-namespace sandbox may not turn, turned by the server on
// the learner's behalf (`lab set <path> <value>` in the terminal).
//
// Most of what a learner changes belongs to their own namespaces and they change it themselves:
// ethtool features, qdiscs, per-namespace sysctls, SO_BUSY_POLL. A few per-device attributes check
// capable(CAP_NET_ADMIN), the capability in the host's initial user namespace, instead of
// ns_capable() on the device's own namespace (store_rps_map(), store_rps_dev_flow_table_cnt() and
// the xps_cpus store function in net/core/net-sysfs.c). Those are the allow-list below; the server checks the
// value here and the engine checks the device is in a namespace of the sandbox.

export interface DeviceKnob {
  // The attribute under /sys/class/net/<device>/, N standing for a queue number.
  attribute: string;
  meaning: string;
  // Returns an error sentence, or null when the value is fine.
  checkValue: (value: string) => string | null;
}

const cpuMask = (value: string) => {
  if (!/^[0-9a-fA-F]{1,16}$/.test(value)) return `"${value}" is not a CPU mask: write hexadecimal, e.g. 2 for CPU 1, 3 for CPUs 0 and 1.`;
  const all = (1n << BigInt(os.cpus().length)) - 1n;
  if ((BigInt(`0x${value}`) & ~all) !== 0n) return `${value} names CPUs this machine does not have: it has ${os.cpus().length} (mask ${all.toString(16)}).`;
  return null;
};

const flowCount = (value: string) => {
  if (!/^\d{1,6}$/.test(value) || Number(value) > 65536) return `"${value}" is not a flow count: write a whole number from 0 to 65536 (the kernel rounds it up to a power of two).`;
  return null;
};

export const DEVICE_KNOBS: DeviceKnob[] = [
  { attribute: 'queues/rx-N/rps_cpus', meaning: 'CPUs that RPS may hand this receive queue\'s packets to', checkValue: cpuMask },
  { attribute: 'queues/rx-N/rps_flow_cnt', meaning: 'size of this queue\'s RFS flow table', checkValue: flowCount },
  { attribute: 'queues/tx-N/xps_cpus', meaning: 'CPUs whose sending uses this transmit queue (XPS)', checkValue: cpuMask },
];

// Host-wide sysctls a sandbox cannot set (they exist only in the host's namespace, or are read-only
// outside it), raised once at start to at least what the labs need; a host that already has more
// keeps it. RFS does nothing until rps_sock_flow_entries is non-zero
// (Documentation/networking/scaling.rst, "Suggested Configuration"; 32768 is the value it
// suggests). rmem_max caps what SO_RCVBUF may ask (Part 2's udp-overflow lab asks for 4 MiB; the
// kernel's own default is 212992). busy_poll and busy_read are left alone: a global busy-poll
// would spin CPUs for every socket on the machine, and the labs ask for it per socket with
// SO_BUSY_POLL instead.
export const HOST_SYSCTL_MINIMUMS: Record<string, number> = {
  'net.core.rps_sock_flow_entries': 32768,
  'net.core.rmem_max': 4194304,
};

export function applyHostSysctls() {
  for (const [name, minimum] of Object.entries(HOST_SYSCTL_MINIMUMS)) {
    const file = `/proc/sys/${name.replaceAll('.', '/')}`;
    if (Number(fs.readFileSync(file, 'utf8').trim()) >= minimum) continue;
    fs.writeFileSync(file, String(minimum));
    log.info(`raised the host-wide ${name} to ${minimum} (the labs need it; a sandbox cannot set it)`);
  }
}

export interface KnobRequest {
  device: string;
  attribute: string;
  value: string;
}

export class KnobError extends Error {}

// Reads `lab set <path> <value>`; throws a KnobError that tells the learner what is possible.
export function parseKnobRequest(pathArgument: string | undefined, value: string | undefined): KnobRequest {
  if (!pathArgument || value === undefined) throw new KnobError(usage());
  const sysctl = pathArgument.replace(/^\/proc\/sys\//, '').replaceAll('/', '.');
  if (HOST_SYSCTL_MINIMUMS[sysctl] !== undefined) {
    throw new KnobError(`${sysctl} is host-wide (a sandbox cannot set it): the server keeps it at ${HOST_SYSCTL_MINIMUMS[sysctl]} or more for every sandbox.`);
  }
  // A device name as the kernel allows it (dev_valid_name() in net/core/dev.c).
  const match = /^\/sys\/class\/net\/([^/:\s]{1,15})\/(.+)$/.exec(pathArgument);
  if (match && (match[1] === '.' || match[1] === '..')) throw new KnobError(`${match[1]} is not a device name.`);
  const knob = match && DEVICE_KNOBS.find((candidate) => new RegExp(`^${candidate.attribute.replace('N', '\\d{1,4}')}$`).test(match[2]));
  if (!match || !knob) throw new KnobError(`${pathArgument} is not something lab set can change.\n${usage()}`);
  const problem = knob.checkValue(value);
  if (problem) throw new KnobError(problem);
  return { device: match[1], attribute: match[2], value };
}

function usage() {
  const knobs = DEVICE_KNOBS.map((knob) => `  /sys/class/net/<device>/${knob.attribute}   ${knob.meaning}`);
  return [
    'usage: lab set <path> <value>   (run it in the tab of the namespace the device is in)',
    'The kernel lets only the host\'s root write these, even for your own devices; the server writes them for you:',
    ...knobs,
    `Host-wide, set by the server for everyone: ${Object.entries(HOST_SYSCTL_MINIMUMS).map(([name, value]) => `${name} ≥ ${value}`).join(', ')}.`,
  ].join('\n');
}
