import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ExecOptions, ExecResult } from './engine.ts';
import { SandboxGoneError } from './engine.ts';

// Grace the runc client (or pristine-exec) gets after the command's own timeout should have fired.
export const EXEC_KILL_GRACE_MS = 2_000;
// What pristine-exec exits with when it could not run the command at all.
const PRISTINE_EXEC_FAILED = 125;

export const timeoutSeconds = (timeoutMs: number) => Math.max(1, Math.ceil(timeoutMs / 1000));

// Gathers what a command bounded in time (by `timeout` in the sandbox, or by pristine-exec) prints,
// up to the cap, and how it ended.
export function collectOutput(child: ChildProcessWithoutNullStreams, sandboxId: string, options: ExecOptions, seconds: number): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const stdout = new CappedBuffer(options.maxOutputBytes);
    const stderr = new CappedBuffer(options.maxOutputBytes);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, seconds * 1000 + EXEC_KILL_GRACE_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      const err = stderr.text();
      if (sandboxWasGone(code, err)) {
        reject(new SandboxGoneError(sandboxId));
        return;
      }
      const helperFailure = code === PRISTINE_EXEC_FAILED && /^pristine-exec: (.*)$/m.exec(err);
      if (helperFailure) {
        reject(new Error(helperFailure[1]));
        return;
      }
      // GNU timeout and pristine-exec exit 137 (128 + SIGKILL) when they had to kill the command.
      if (code === 137 && performance.now() - started >= seconds * 1000) timedOut = true;
      resolve({
        exitCode: code,
        stdout: stdout.text(),
        stderr: err,
        timedOut,
        truncated: stdout.truncated || stderr.truncated,
        durationMs: performance.now() - started,
      });
    });
  });
}

export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer) {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept !== chunk) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

// runc 1.1 says "exec failed: container does not exist" for a deleted sandbox; pristine-exec, that
// the sandbox is not running, or that the process it was given is no longer the sandbox's.
export function sandboxWasGone(exitCode: number | null, stderr: string) {
  return exitCode !== 0 && /container (.* )?does not exist|container not running|cannot exec in a stopped|^pristine-exec: (the sandbox is not running|that process is not the sandbox's)/m.test(stderr);
}

export function describeFailure(error: unknown) {
  if (error && typeof error === 'object' && 'stderr' in error && String(error.stderr).trim()) return String(error.stderr).trim();
  return error instanceof Error ? error.message : String(error);
}

