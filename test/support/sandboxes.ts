import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Isolation } from '../../server/engine/oci-spec.ts';
import { RuncEngine } from '../../server/engine/runc.ts';

const BUILD_SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'labs', 'image', 'build.sh');

// The real engine over the real lab image. Tests that need it fail loudly, never skip, when the
// machine cannot give it to them: `npm test` installs runc and builds the image first.
export function realEngine(options: { stateDir?: string; volumesDir?: string; volumeBytes?: number; isolation?: Isolation } = {}) {
  if (process.getuid?.() !== 0) throw new Error('sandbox tests need root: run them as root (npm test does the setup)');
  const imageDir = execFileSync('bash', [BUILD_SCRIPT, '--path'], { encoding: 'utf8' }).trim();
  if (!fs.existsSync(path.join(imageDir, '.complete'))) {
    throw new Error(`the lab image ${imageDir} is not built: run \`bash labs/image/build.sh\` (npm test does)`);
  }
  // Tests share one state dir of their own, apart from a running server's /run/wirelab.
  const stateDir = options.stateDir ?? process.env.WIRELAB_TEST_STATE_DIR ?? '/run/wirelab-test';
  // Learners' files on the host's disk, as a server keeps them, apart from a server's own.
  const volumesDir = options.volumesDir ?? '/var/lib/wirelab-test/files';
  const engine = new RuncEngine({
    imageDir,
    stateDir,
    volumesDir,
    volumeBytes: options.volumeBytes ?? 256 * 1024 * 1024,
    limits: { memoryBytes: 256 * 1024 * 1024, pids: 128, cpus: 1 },
    isolation: options.isolation ?? 'user-namespace',
  });
  return { engine, stateDir, imageDir, volumesDir };
}

export const EXEC = { timeoutMs: 20_000, maxOutputBytes: 1024 * 1024 };

const hostNamespaces = () => (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []);
// The host may have named network namespaces of its own (any other tool's): only new ones are ours.
const HOST_NAMESPACES_BEFORE = new Set(hostNamespaces());

// What the machine still holds of these sandboxes: mounts, bundles, cgroups, processes, and the
// host's named network namespaces (which a sandbox must never add to).
export function leftovers(stateDir: string, sandboxIds: string[]) {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${stateDir}/`));
  const bundles = fs.existsSync(path.join(stateDir, 'sandboxes')) ? fs.readdirSync(path.join(stateDir, 'sandboxes')) : [];
  const cgroups = ['memory', 'pids', 'cpu'].flatMap((controller) =>
    sandboxIds.map((id) => `/sys/fs/cgroup/${controller}/wirelab/${id}`).filter((dir) => fs.existsSync(dir)),
  );
  const processes = fs.readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      // Kernel threads (no command line) pass through a freed cgroup for a moment while the
      // kernel tears a network namespace down; only user processes would be a leak.
      if (fs.readFileSync(`/proc/${pid}/cmdline`).length === 0) return false;
      const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      return sandboxIds.some((id) => cgroup.includes(id));
    } catch {
      return false;
    }
  });
  const newHostNamespaces = hostNamespaces().filter((name) => !HOST_NAMESPACES_BEFORE.has(name));
  return { mounts, bundles, cgroups, processes, hostNamespaces: newHostNamespaces };
}

export const NOTHING_LEFT = { mounts: [], bundles: [], cgroups: [], processes: [], hostNamespaces: [] };

export const bundlesIn = (stateDir: string) => (fs.existsSync(path.join(stateDir, 'sandboxes')) ? fs.readdirSync(path.join(stateDir, 'sandboxes')) : []);

// The sandboxes of a server's state dir in which the server holds a login shell (`runc exec --tty
// … <id> bash -l`): a warm sandbox is ready once it has one.
export function sandboxesWithShell(stateDir: string) {
  const ids = new Set(bundlesIn(stateDir));
  const withShell = new Set<string>();
  for (const pid of fs.readdirSync('/proc')) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes('--tty')) for (const arg of args) if (ids.has(arg)) withShell.add(arg);
    } catch {
      // gone meanwhile
    }
  }
  return [...withShell];
}

// Resolves with the sandboxes holding a shell once there are at least `count`; rejects after a timeout.
export async function untilSandboxesWithShell(stateDir: string, count: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = sandboxesWithShell(stateDir);
    if (ready.length >= count) return ready;
    if (Date.now() > deadline) throw new Error(`${ready.length} sandbox(es) of ${count} held a shell after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
