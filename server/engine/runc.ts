import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pty from 'node-pty';
import type { Readable } from 'node:stream';
import type { CreateOptions, Engine, ExecOptions, ExecResult, Labels, MemoryUse, Sandbox, SandboxProcess, TtyOptions } from './engine.ts';
import { SandboxGoneError } from './engine.ts';
import { cgroupMemory } from './cgroup-memory.ts';
import { collectOutput, CappedBuffer, describeFailure, EXEC_KILL_GRACE_MS, sandboxWasGone, timeoutSeconds } from './exec-output.ts';
import { nativeHelpers } from './native.ts';
import { inspectEnvironment, sandboxSpec, type IdRange, type Isolation, type SandboxLimits } from './oci-spec.ts';
import { UPPER, Volumes } from './volumes.ts';

const run = promisify(execFile);

const LABEL_PREFIX = 'wirelab.';

interface RuncState {
  id: string;
  status: string;
  bundle: string;
  created: string;
  annotations?: Record<string, string>;
}

// The default engine: runc over an overlay of the read-only lab image, one bundle per sandbox
// under <stateDir>/sandboxes/<id>: disk/ (the mounted image of the learner's files, holding the
// overlay's upper and work dirs: server/engine/volumes.ts), volume (that image's path), tun (the
// sandbox's TUN node), rootfs/ (the overlay), service/ (appears as /run/wirelab inside), config.json.
export class RuncEngine implements Engine {
  private readonly runcRoot: string;
  private readonly bundlesDir: string;
  private readonly ids: IdRange;
  private readonly helpers = nativeHelpers();

  private readonly files: Volumes;

  constructor(
    private readonly options: {
      imageDir: string;
      stateDir: string;
      // Where learners' kept files live (on the host's disk, outliving reboots).
      volumesDir: string;
      volumeBytes: number;
      limits: SandboxLimits;
      isolation: Isolation;
    },
  ) {
    this.runcRoot = path.join(options.stateDir, 'runc');
    this.bundlesDir = path.join(options.stateDir, 'sandboxes');
    this.ids = imageIdRange(options.imageDir);
    this.files = new Volumes(options.volumesDir, options.volumeBytes);
    // Made here, open to traversal, before runc can make it: runc creates its root's missing
    // parents 0700, and a sandbox's runc init, already its unprivileged root, must pass through to
    // reach its bundle's rootfs.
    for (const dir of [options.stateDir, this.bundlesDir]) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
    }
  }

  get isolation() {
    return this.options.isolation;
  }

  async create(labels: Labels, options: CreateOptions = {}): Promise<Sandbox> {
    const id = `wl-${randomBytes(6).toString('hex')}`;
    const bundle = this.bundlePath(id);
    const serviceDir = path.join(bundle, 'service');
    const annotations = Object.fromEntries(Object.entries(labels).map(([key, value]) => [LABEL_PREFIX + key, value]));
    const createdAt = new Date();
    annotations[`${LABEL_PREFIX}created`] = createdAt.toISOString();
    const image = options.volume ? this.files.imageOf(options.volume) : this.files.ephemeralImageOf(id);
    try {
      await fs.mkdir(path.join(bundle, 'disk'), { recursive: true });
      await fs.mkdir(path.join(bundle, 'rootfs'));
      await fs.mkdir(serviceDir, { mode: 0o755 });
      await this.files.prepare();
      if (await this.volumeInUse(image)) throw new Error(`the files ${image} are in use by another sandbox`);
      await fs.writeFile(path.join(bundle, 'volume'), image);
      const disk = path.join(bundle, 'disk');
      await this.files.mount(image, disk, this.ids.hostId);
      const tun = path.join(bundle, 'tun');
      await run('mknod', ['-m', '0666', tun, 'c', '10', '200']);
      const rootfs = path.join(bundle, 'rootfs');
      const layers = `lowerdir=${this.options.imageDir},upperdir=${disk}/${UPPER},workdir=${disk}/work`;
      await run('mount', ['-t', 'overlay', '-o', layers, 'wirelab-rootfs', rootfs]);
      const spec = sandboxSpec({
        id,
        annotations,
        rootfs,
        serviceDir,
        tunDevice: tun,
        bpffsHook: this.helpers.bpffsHook,
        limits: this.options.limits,
        isolation: this.options.isolation,
        ids: this.ids,
      });
      await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      await startDetached(this.runcRoot, bundle, id);
    } catch (error) {
      await this.destroy(id).catch(() => {});
      throw new Error(`could not start a sandbox: ${describeFailure(error)}`);
    }
    return { id, labels, createdAt, serviceDir };
  }

  exec(sandboxId: string, command: string[], options: ExecOptions): Promise<ExecResult> {
    const seconds = timeoutSeconds(options.timeoutMs);
    return collectOutput(this.execInSandbox(sandboxId, command, seconds), sandboxId, options, seconds);
  }

  // Through native/pristine-exec.c: the command runs on the read-only image with the sandbox's
  // kernel state and its learner-written directories, as the sandbox's root.
  async inspect(sandboxId: string, command: string[], options: ExecOptions): Promise<ExecResult> {
    const seconds = timeoutSeconds(options.timeoutMs);
    const pid = await this.initPid(sandboxId);
    const args = [String(pid), sandboxId, this.options.imageDir, String(seconds), ...inspectEnvironment(this.options.isolation), '--', ...command];
    return collectOutput(spawn(this.helpers.pristineExec, args, { stdio: ['pipe', 'pipe', 'pipe'] }), sandboxId, options, seconds);
  }

  spawn(sandboxId: string, command: string[], options: { timeoutMs: number }): SandboxProcess {
    const child = this.execInSandbox(sandboxId, command, timeoutSeconds(options.timeoutMs));
    // Only runc's own complaint is needed from it (a sandbox that is gone).
    const stderr = new CappedBuffer(4096);
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {});
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => (sandboxWasGone(code, stderr.text()) ? reject(new SandboxGoneError(sandboxId)) : resolve(code)));
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      exited,
      stop: () => {
        // runc forwards the SIGTERM to `timeout`, which passes it to the command's whole process
        // group in the sandbox; SIGKILL, which runc cannot forward, only if the client hangs.
        child.stdin.end();
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), EXEC_KILL_GRACE_MS).unref();
      },
    };
  }

  attachTty(sandboxId: string, command: string[], options: TtyOptions) {
    const envArgs = Object.entries({ TERM: 'xterm-256color', ...options.env }).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return pty.spawn('runc', ['--root', this.runcRoot, 'exec', '--tty', ...envArgs, sandboxId, ...command], {
      name: 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      encoding: null,
    });
  }

  async copyIn(sandboxId: string, hostDir: string, sandboxDir: string, { keepExisting = false } = {}) {
    // Through tar inside the sandbox rather than a host-side copy into the overlay: a path inside
    // the sandbox may be a symlink a learner made, and it must resolve inside the sandbox, not on the host.
    const { stdout: archive } = await run('tar', ['-C', hostDir, '--owner=0', '--group=0', '-cf', '-', '.'], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    const extract = keepExisting ? 'tar --skip-old-files -xf - -C "$1"' : 'tar -xf - -C "$1"';
    const result = await this.exec(sandboxId, ['sh', '-c', `mkdir -p "$1" && ${extract}`, 'copy-in', sandboxDir], {
      timeoutMs: 20_000,
      maxOutputBytes: 16 * 1024,
      stdin: archive as unknown as string,
    });
    if (result.exitCode !== 0) throw new Error(`copying lab files into ${sandboxDir} failed: ${result.stderr.trim()}`);
  }

  async destroy(sandboxId: string) {
    await run('runc', ['--root', this.runcRoot, 'delete', '--force', sandboxId], { timeout: 30_000 }).catch((error) => {
      if (!/does not exist/.test(describeFailure(error))) throw error;
    });
    const bundle = this.bundlePath(sandboxId);
    const mounted = await mountPoints();
    for (const mountPoint of [path.join(bundle, 'rootfs'), path.join(bundle, 'disk')]) {
      if (mounted.has(mountPoint)) await unmount(mountPoint);
    }
    const image = await fs.readFile(path.join(bundle, 'volume'), 'utf8').catch(() => null);
    if (image) {
      if (image === this.files.ephemeralImageOf(sandboxId)) await this.files.remove(image);
      else await this.files.touch(image);
    }
    await fs.rm(bundle, { recursive: true, force: true });
  }

  async sweepOrphans() {
    return this.files.sweepEphemeral((sandboxId) => fs.access(this.bundlePath(sandboxId)).then(() => true, () => false));
  }

  async memory(sandboxId: string): Promise<MemoryUse> {
    await this.initPid(sandboxId);
    return cgroupMemory(`/wirelab/${sandboxId}`);
  }

  async claimVolume(sandboxId: string, volume: string) {
    const record = path.join(this.bundlePath(sandboxId), 'volume');
    const image = this.files.imageOf(volume);
    await this.files.rename(await fs.readFile(record, 'utf8'), image);
    await fs.writeFile(record, image);
  }

  hasVolume(volume: string) {
    return this.files.has(volume);
  }

  volumes() {
    return this.files.list();
  }

  async deleteVolume(volume: string) {
    const image = this.files.imageOf(volume);
    if (await this.volumeInUse(image)) throw new Error(`the files of ${volume} are in use by a sandbox: end it first`);
    await this.files.remove(image);
  }

  async exportVolume(volume: string): Promise<Readable | null> {
    const image = this.files.imageOf(volume);
    if (!(await this.files.has(volume))) return null;
    const user = await this.sandboxUsing(image);
    if (user) return this.files.archive(path.join(this.bundlePath(user), 'disk', UPPER));
    return this.files.archiveUnused(image, path.join(this.options.stateDir, 'exports', `${randomBytes(6).toString('hex')}`));
  }

  // The sandbox whose bundle has this image mounted, if any.
  private async sandboxUsing(image: string) {
    const bundles = await fs.readdir(this.bundlesDir).catch(() => [] as string[]);
    for (const id of bundles) {
      const used = await fs.readFile(path.join(this.bundlesDir, id, 'volume'), 'utf8').catch(() => null);
      if (used === image) return id;
    }
    return null;
  }

  private async volumeInUse(image: string) {
    return (await this.sandboxUsing(image)) !== null;
  }

  // Bundles runc never started (a crash between mounting and `runc run`) are listed too, so a
  // sweep after a crash finds them.
  async list(): Promise<(Sandbox & { running: boolean })[]> {
    const { stdout } = await run('runc', ['--root', this.runcRoot, 'list', '--format', 'json']);
    const states = (JSON.parse(stdout || 'null') as RuncState[] | null) ?? [];
    const sandboxes = states.map((state) => {
      const annotations = state.annotations ?? {};
      const labels = Object.fromEntries(
        Object.entries(annotations)
          .filter(([key]) => key.startsWith(LABEL_PREFIX) && key !== `${LABEL_PREFIX}created`)
          .map(([key, value]) => [key.slice(LABEL_PREFIX.length), value]),
      );
      return {
        id: state.id,
        labels,
        createdAt: new Date(annotations[`${LABEL_PREFIX}created`] ?? state.created),
        serviceDir: path.join(state.bundle, 'service'),
        running: state.status === 'running',
      };
    });
    const known = new Set(sandboxes.map((sandbox) => sandbox.id));
    const bundles = await fs.readdir(this.bundlesDir).catch(() => [] as string[]);
    for (const id of bundles.filter((name) => name.startsWith('wl-') && !known.has(name))) {
      sandboxes.push({ id, labels: {}, createdAt: new Date(0), serviceDir: path.join(this.bundlePath(id), 'service'), running: false });
    }
    return sandboxes;
  }

  async ownerNamespace(sandboxId: string) {
    if (this.options.isolation !== 'user-namespace') return null;
    return (await fs.stat(`/proc/${await this.initPid(sandboxId)}/ns/user`)).ino;
  }

  async writeDeviceAttribute(sandboxId: string, namespace: string, attribute: string, value: string) {
    const pid = await this.initPid(sandboxId);
    try {
      await run(this.helpers.netnsKnob, [String(pid), sandboxId, namespace, attribute, value], { timeout: 5_000 });
    } catch (error) {
      throw new Error(describeFailure(error));
    }
  }

  // `runc exec` of a command bounded in time. `timeout` runs inside the sandbox and kills the
  // command's whole process group there: killing the runc client alone would leave the command
  // running in the sandbox.
  private execInSandbox(sandboxId: string, command: string[], seconds: number) {
    const args = ['--root', this.runcRoot, 'exec', sandboxId, 'timeout', '-s', 'KILL', String(seconds), ...command];
    return spawn('runc', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  private async initPid(sandboxId: string) {
    const state = await run('runc', ['--root', this.runcRoot, 'state', sandboxId]).catch(() => {
      throw new SandboxGoneError(sandboxId);
    });
    const { pid, status } = JSON.parse(state.stdout) as { pid: number; status: string };
    if (status !== 'running' || !(pid > 0)) throw new SandboxGoneError(sandboxId);
    return pid;
  }

  private bundlePath(sandboxId: string) {
    if (!/^wl-[0-9a-f]{12}$/.test(sandboxId)) throw new Error(`not a sandbox id: ${sandboxId}`);
    return path.join(this.bundlesDir, sandboxId);
  }
}

// `runc run --detach` hands its stdio to the sandbox's PID 1, so pipes would stay open for the
// sandbox's whole life: give it none, and read runc's own log when it fails.
function startDetached(runcRoot: string, bundle: string, id: string) {
  const log = path.join(bundle, 'runc.log');
  return new Promise<void>((resolve, reject) => {
    const child = spawn('runc', ['--root', runcRoot, '--log', log, 'run', '--detach', '--bundle', bundle, id], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', async (code) => {
      if (code === 0) return resolve();
      const details = await fs.readFile(log, 'utf8').catch(() => '');
      const lastError = details.trim().split('\n').filter((line) => /error|level=fatal/i.test(line)).pop() ?? details.trim();
      reject(new Error(`runc run exited with ${code}: ${lastError}`));
    });
  });
}

async function mountPoints() {
  const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return new Set(mountinfo.split('\n').map((line) => line.split(' ')[4]).filter(Boolean));
}

async function unmount(mountPoint: string) {
  try {
    await run('umount', [mountPoint]);
  } catch {
    // Something still holds it (a process caught mid-exit): detach it now; the kernel frees it when released.
    await run('umount', ['--lazy', mountPoint]);
  }
}

// The range of host ids the image was prepared for (labs/image/build.sh writes it into the image).
function imageIdRange(imageDir: string): IdRange {
  const [hostId, count] = readFileSync(path.join(imageDir, '.idmap'), 'utf8').trim().split(/\s+/).map(Number);
  if (!(hostId > 0 && count > 0)) throw new Error(`the lab image ${imageDir} says nothing usable about its id range in .idmap: rebuild it (labs/image/build.sh)`);
  return { hostId, count };
}
