import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as pty from 'node-pty';
import type { IPty } from 'node-pty';
import type { Isolation } from '../../server/engine/oci-spec.ts';
import { realEngine } from '../../test/support/sandboxes.ts';
import { LOGIN_SHELL, TTY_SIZE, ms, sleep } from './common.ts';

// Something that starts an isolated shell: start() gives the id that shell() and stop() take;
// cleanUp() removes all it left on the machine, whether its runs went well or not.
export interface Contender {
  label: string;
  phases: string;
  start: () => Promise<string>;
  shell: (id: string) => IPty;
  stop: (id: string) => Promise<void>;
  cleanUp: () => Promise<void>;
}

export async function startToShell(contender: Contender) {
  const started = performance.now();
  const id = await contender.start();
  const created = performance.now();
  let prompted = NaN;
  try {
    const shell = contender.shell(id);
    try {
      await firstPrompt(shell);
    } finally {
      shell.kill();
    }
    prompted = performance.now();
  } finally {
    await contender.stop(id);
  }
  return { start: prompted - started, create: created - started, attach: prompted - created, teardown: performance.now() - prompted };
}

export function firstPrompt(shell: IPty, timeoutMs = 20_000) {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const settle = (error?: Error) => {
      clearTimeout(timer);
      onData.dispose();
      onExit.dispose();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new Error(`no prompt within ${timeoutMs} ms; the shell wrote ${JSON.stringify(output)}`)), timeoutMs);
    const onData = shell.onData((chunk) => {
      output += chunk;
      if (chunk.includes('#')) settle();
    });
    const onExit = shell.onExit(({ exitCode }) => settle(new Error(`the shell exited with ${exitCode} before its prompt; it wrote ${JSON.stringify(output)}`)));
  });
}

// The engine, over a state dir of its own (and, if given, a dir of its own for the sandboxes' files).
export function sandboxContender(isolation: Isolation, stateDir: string, files?: { volumesDir: string; label: string }): Contender {
  const { engine } = realEngine({ stateDir, isolation, volumesDir: files?.volumesDir });
  return {
    label: files ? `${isolation} sandbox, ${files.label}` : `${isolation} sandbox`,
    phases: 'create / attach',
    start: async () => (await engine.create({ bench: 'isolation' })).id,
    shell: (id) => engine.attachTty(id, LOGIN_SHELL, TTY_SIZE),
    stop: (id) => engine.destroy(id),
    cleanUp: async () => {
      for (const sandbox of await engine.list()) await engine.destroy(sandbox.id);
      fs.rmSync(stateDir, { recursive: true, force: true });
      if (files) fs.rmSync(files.volumesDir, { recursive: true, force: true });
    },
  };
}

// The floor: `runc run -d`, then `runc exec -t`, over the lab image itself as a read-only root,
// with a sandbox's namespaces but no user namespace, overlay, tmpfs, limits or hook.
export function bareRuncContender(stateDir: string): Contender {
  const { imageDir } = realEngine({ stateDir });
  const runcRoot = path.join(stateDir, 'runc');
  const bundle = (id: string) => path.join(stateDir, 'bundles', id);
  const runc = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      // `run -d` hands runc's stdio to the container's PID 1: give it none, and read runc's log on failure.
      const log = path.join(stateDir, 'runc.log');
      spawn('runc', ['--root', runcRoot, '--log', log, ...args], { stdio: 'ignore' })
        .on('error', reject)
        .on('exit', (code) => {
          if (code === 0) return resolve();
          const lastLine = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').pop() : '';
          reject(new Error(`runc ${args.join(' ')} exited with ${code}: ${lastLine}`));
        });
    });
  let started = 0;
  return {
    label: 'bare runc floor',
    phases: 'run -d / exec -t',
    start: async () => {
      const id = `wirelab-bench-${++started}`;
      fs.mkdirSync(bundle(id), { recursive: true });
      fs.writeFileSync(path.join(bundle(id), 'config.json'), JSON.stringify(bareSpec(imageDir, id)));
      await runc(['run', '--detach', '--bundle', bundle(id), id]);
      return id;
    },
    shell: (id) =>
      pty.spawn('runc', ['--root', runcRoot, 'exec', '--tty', '--env', 'TERM=xterm-256color', id, ...LOGIN_SHELL], {
        ...TTY_SIZE,
        name: 'xterm-256color',
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      }),
    stop: async (id) => {
      await runc(['delete', '--force', id]);
      fs.rmSync(bundle(id), { recursive: true });
    },
    cleanUp: async () => {
      for (const id of fs.existsSync(runcRoot) ? fs.readdirSync(runcRoot) : []) await runc(['delete', '--force', id]);
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function bareSpec(imageDir: string, id: string) {
  // Root needs CAP_DAC_OVERRIDE to read an image owned by the sandboxes' id range (/root is 0700).
  const capabilities = ['CAP_DAC_OVERRIDE'];
  return {
    ociVersion: '1.0.2',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['/usr/bin/tini', '--', 'sleep', 'infinity'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
      cwd: '/',
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
    },
    root: { path: imageDir, readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    ],
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type })),
      cgroupsPath: `/wirelab/${id}`,
    },
  };
}
