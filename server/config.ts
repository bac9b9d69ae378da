import path from 'node:path';
import { z } from 'zod';
import type { Isolation } from './engine/oci-spec.ts';
import { trustedProxySet } from './limits/client-address.ts';
import { parseRate } from './limits/rate.ts';

export const DEFAULT_WARM_POOL = 'orientation=1,netns-veth=1,bridge-switch=1,router=1,tcp-service=1';

// Every knob an operator may turn, read once from the environment with defaults that suit
// one learner on their own machine. The README's "Configuration" table documents each one.
const Env = z.object({
  WIRELAB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  // Loopback by default: local mode trusts the one learner at the keyboard. Workshops bind 0.0.0.0.
  WIRELAB_HOST: z.string().default('127.0.0.1'),
  WIRELAB_DATA_DIR: z.string().default('/var/lib/wirelab'),
  WIRELAB_DB: z.string().optional(),
  WIRELAB_STATE_DIR: z.string().default('/run/wirelab'),
  WIRELAB_MAX_SANDBOXES: z.coerce.number().int().min(1).default(100),
  WIRELAB_IDLE_MINUTES: z.coerce.number().positive().default(30),
  WIRELAB_MAX_LIFETIME_MINUTES: z.coerce.number().positive().default(240),
  WIRELAB_SANDBOX_MEMORY_MIB: z.coerce.number().int().min(64).default(512),
  WIRELAB_SANDBOX_PIDS: z.coerce.number().int().min(32).default(256),
  WIRELAB_SANDBOX_CPUS: z.coerce.number().positive().default(1),
  // Each learner's files of each lab: an image of at most this size on the host's disk.
  WIRELAB_LEARNER_DISK_MIB: z.coerce.number().int().min(64).default(1024),
  WIRELAB_FILES_RETENTION_DAYS: z.coerce.number().positive().default(30),
  WIRELAB_SANDBOXES_ON_STOP: z.enum(['keep-running', 'stop']).default('keep-running'),
  WIRELAB_GRADING_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  WIRELAB_TRACING_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  // Ready sandboxes kept per lab: one number for every lab, or `lab=n,lab=n` (the rest get none).
  // By default one for each lab of the chapters a newcomer starts with (orientation and Part 1).
  WIRELAB_WARM_POOL: z
    .string()
    .regex(/^\s*(\d+|[a-z0-9-]+=\d+(\s*,\s*[a-z0-9-]+=\d+)*)\s*$/, 'expected a number, or lab=n pairs separated by commas (orientation=2,netns-veth=1)')
    .default(DEFAULT_WARM_POOL),
  // The escape hatch (README, "Trust model"): sandboxes whose root is the host's root. Its name says
  // what it gives away; on anything but loopback it must be asked for twice.
  WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES: z.enum(['yes', 'no']).default('no'),
  WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES_ON_THE_NETWORK: z.enum(['yes', 'no']).default('no'),
  // Abuse limits. A client is an address (the one a trusted proxy forwards for, behind one), so
  // the rates are sized for a 30-person workshop behind one NAT and for the benchmark, which
  // starts over a hundred sandboxes from loopback in a few minutes.
  WIRELAB_TRUSTED_PROXIES: z.string().default(''),
  WIRELAB_RATE_NEW_LEARNERS: z.string().default('300/hour'),
  WIRELAB_RATE_SANDBOX_STARTS: z.string().default('300/hour'),
  WIRELAB_RATE_CHECKS: z.string().default('600/minute'),
  WIRELAB_MAX_SANDBOXES_PER_LEARNER: z.coerce.number().int().min(1).default(3),
  WIRELAB_TERMINALS_PER_SESSION: z.coerce.number().int().min(1).default(12),
  WIRELAB_TERMINAL_INPUT_KIB_PER_SECOND: z.coerce.number().positive().default(64),
  // /metrics is off unless one of these says who may read it.
  WIRELAB_METRICS_TOKEN: z.string().min(16, 'use a token of at least 16 characters').optional(),
  WIRELAB_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WIRELAB_METRICS_HOST: z.string().default('127.0.0.1'),
  WIRELAB_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  WIRELAB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`wirelab: bad configuration in the environment: ${problems}`);
  }
  const e = parsed.data;
  const rates = {
    newLearners: parseRate('WIRELAB_RATE_NEW_LEARNERS', e.WIRELAB_RATE_NEW_LEARNERS),
    sandboxStarts: parseRate('WIRELAB_RATE_SANDBOX_STARTS', e.WIRELAB_RATE_SANDBOX_STARTS),
    checks: parseRate('WIRELAB_RATE_CHECKS', e.WIRELAB_RATE_CHECKS),
  };
  const hostRoot = e.WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES === 'yes';
  if (hostRoot && !LOOPBACK.test(e.WIRELAB_HOST) && e.WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES_ON_THE_NETWORK !== 'yes') {
    throw new Error(
      `wirelab: WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES=yes gives every learner root over this machine, and WIRELAB_HOST=${e.WIRELAB_HOST} lets anyone who reaches it be a learner. ` +
        'Listen on 127.0.0.1, or also set WIRELAB_UNSAFE_HOST_ROOT_SANDBOXES_ON_THE_NETWORK=yes if every learner is trusted with this machine.',
    );
  }
  return {
    port: e.WIRELAB_PORT,
    host: e.WIRELAB_HOST,
    dataDir: e.WIRELAB_DATA_DIR,
    databasePath: e.WIRELAB_DB ?? path.join(e.WIRELAB_DATA_DIR, 'wirelab.db'),
    // runc state, sandbox bundles and lab sockets: runtime-only, so under /run (gone after a reboot, like the sandboxes)
    stateDir: e.WIRELAB_STATE_DIR,
    // Learners' kept files, one image per learner and lab (server/engine/volumes.ts).
    volumesDir: path.join(e.WIRELAB_DATA_DIR, 'files'),
    volumeBytes: e.WIRELAB_LEARNER_DISK_MIB * 1024 * 1024,
    filesRetentionMs: e.WIRELAB_FILES_RETENTION_DAYS * 24 * 3600_000,
    sandboxesOnStop: e.WIRELAB_SANDBOXES_ON_STOP,
    maxSandboxes: e.WIRELAB_MAX_SANDBOXES,
    maxSandboxesPerLearner: e.WIRELAB_MAX_SANDBOXES_PER_LEARNER,
    idleTimeoutMs: e.WIRELAB_IDLE_MINUTES * 60_000,
    maxLifetimeMs: e.WIRELAB_MAX_LIFETIME_MINUTES * 60_000,
    sandboxLimits: {
      memoryBytes: e.WIRELAB_SANDBOX_MEMORY_MIB * 1024 * 1024,
      pids: e.WIRELAB_SANDBOX_PIDS,
      cpus: e.WIRELAB_SANDBOX_CPUS,
    },
    gradingConcurrency: e.WIRELAB_GRADING_CONCURRENCY,
    tracingConcurrency: e.WIRELAB_TRACING_CONCURRENCY,
    warmPool: warmPoolSizes(e.WIRELAB_WARM_POOL),
    isolation: (hostRoot ? 'host-root' : 'user-namespace') as Isolation,
    limits: {
      trustedProxies: trustedProxySet(e.WIRELAB_TRUSTED_PROXIES.split(',').map((address) => address.trim()).filter(Boolean)),
      rates,
      terminalsPerSession: e.WIRELAB_TERMINALS_PER_SESSION,
      terminalInputBytesPerSecond: e.WIRELAB_TERMINAL_INPUT_KIB_PER_SECOND * 1024,
    },
    metrics: { token: e.WIRELAB_METRICS_TOKEN, port: e.WIRELAB_METRICS_PORT, host: e.WIRELAB_METRICS_HOST },
    log: { format: e.WIRELAB_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'), level: e.WIRELAB_LOG_LEVEL },
  };
}

// How many ready sandboxes the warm pool keeps of each lab: `perLab` where named, `others` elsewhere.
export interface WarmPoolSizes {
  perLab: Record<string, number>;
  others: number;
}

function warmPoolSizes(setting: string): WarmPoolSizes {
  const trimmed = setting.trim();
  if (/^\d+$/.test(trimmed)) return { perLab: {}, others: Number(trimmed) };
  const pairs = trimmed.split(',').map((pair) => pair.split('=').map((part) => part.trim()));
  return { perLab: Object.fromEntries(pairs.map(([lab, count]) => [lab, Number(count)])), others: 0 };
}
