import type { Readable, Writable } from 'node:stream';
import type { IPty } from 'node-pty';

// The seam between wirelab and whatever runs sandboxes. The default engine drives runc on this
// machine; a Kubernetes or VM-isolating engine would implement the same few calls (DESIGN.md,
// "Scale beyond one machine"). Like JupyterHub's Spawner, the server can rebuild its picture of
// running sandboxes from `list()` after a restart, so labels carry everything it needs.

export type Labels = Record<string, string>;

export interface Sandbox {
  id: string;
  labels: Labels;
  createdAt: Date;
  // A directory on the server that appears inside the sandbox at /run/wirelab: the server puts
  // the Unix socket behind the in-sandbox `lab` command there.
  serviceDir: string;
}

export interface ExecOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: string;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

// A command left running in a sandbox that talks with the server over its stdin and stdout while it
// runs (the live counters' reader, server/mediation/counters.ts).
export interface SandboxProcess {
  stdin: Writable;
  stdout: Readable;
  // Resolves with the exit code once the command has ended; rejects with SandboxGoneError if the
  // sandbox was not running.
  exited: Promise<number | null>;
  // Ends the command and whatever it started, in the sandbox.
  stop(): void;
}

export interface TtyOptions {
  cols: number;
  rows: number;
  env?: Record<string, string>;
}

export interface CreateOptions {
  // The learner's kept files for this lab: the sandbox's writable layer (/root, /etc and the rest),
  // made on first use and kept when the sandbox ends. Without one, the layer is the sandbox's own
  // and goes with it.
  volume?: string;
}

// A sandbox's memory as its cgroup counts it, and how often the kernel's OOM killer struck there.
export interface MemoryUse {
  usedBytes: number;
  limitBytes: number;
  oomKills: number;
}

export interface VolumeInfo {
  name: string;
  // What the volume holds of the host's disk, not its size limit.
  bytes: number;
  lastUsedAt: Date;
}

export interface Engine {
  create(labels: Labels, options?: CreateOptions): Promise<Sandbox>;
  // Runs a command as the learner would, in the sandbox's own file system: setups, solutions, copies.
  exec(sandboxId: string, command: string[], options: ExecOptions): Promise<ExecResult>;
  // Runs a command that reads the sandbox's kernel state (its network namespaces, BPF pins, processes
  // and the files in /root, /tmp and /run) with the lab image's own tools: whatever the learner did to
  // the programs, libraries and configuration in their file system, it sees what the kernel holds.
  // Checks run through here. No more privileged than the sandbox's root.
  inspect(sandboxId: string, command: string[], options: ExecOptions): Promise<ExecResult>;
  attachTty(sandboxId: string, command: string[], options: TtyOptions): IPty;
  // Like exec, but the output is read as it comes; the command lives until it ends, is stopped, or
  // reaches `timeoutMs`.
  spawn(sandboxId: string, command: string[], options: { timeoutMs: number }): SandboxProcess;
  // Copies a host directory's files into the sandbox; with `keepExisting`, files already there stay
  // as they are (a learner's edited starter files, on a sandbox resumed on kept files).
  copyIn(sandboxId: string, hostDir: string, sandboxDir: string, options?: { keepExisting?: boolean }): Promise<void>;
  // Ends the sandbox's processes and kernel state; a named volume stays.
  destroy(sandboxId: string): Promise<void>;
  // Every sandbox this engine has on the machine, including stopped or half-made ones.
  list(): Promise<(Sandbox & { running: boolean })[]>;
  memory(sandboxId: string): Promise<MemoryUse>;

  // Removes what sandboxes that no longer exist left on the host's disk; returns how many.
  sweepOrphans(): Promise<number>;

  // Learners' kept files. A sandbox made without a volume (a warm one) can be given one while it
  // runs: its files become that volume's.
  claimVolume(sandboxId: string, volume: string): Promise<void>;
  hasVolume(volume: string): Promise<boolean>;
  volumes(): Promise<VolumeInfo[]>;
  // Refused while a sandbox uses the volume.
  deleteVolume(volume: string): Promise<void>;
  // The volume's files (those the learner added or changed) as a tar.gz; null if there is no such volume.
  exportVolume(volume: string): Promise<Readable | null>;

  // What only the host may do, done on a sandbox's behalf once the server has decided it is allowed
  // (server/mediation/knobs.ts, server/mediation/tracing.ts): the learner never runs code on the host.
  // The inode of the user namespace that owns every namespace the sandbox makes, which host-side
  // tracing filters on; null when the sandbox has no user namespace of its own (host-root sandboxes).
  ownerNamespace(sandboxId: string): Promise<number | null>;
  // Writes a per-device sysfs attribute (`<device>/queues/rx-0/rps_cpus`) of a network device in one
  // of the sandbox's network namespaces ('' for the sandbox's own).
  writeDeviceAttribute(sandboxId: string, namespace: string, attribute: string, value: string): Promise<void>;
}

export class SandboxGoneError extends Error {
  constructor(sandboxId: string) {
    super(`sandbox ${sandboxId} is not running (it was reset, reaped for idleness, or crashed)`);
  }
}
