import type { CriterionResult } from '../db/progress.ts';
import { SandboxGoneError, type Engine, type ExecResult } from '../engine/engine.ts';
import { runCheckBatch } from './check-batch.ts';
import { UnreadableOutput, type Check, type Exercise } from '../../labs/define-lab.ts';

const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
const CHECK_OUTPUT_CAP_BYTES = 256 * 1024;

export interface Verdict {
  passed: boolean;
  results: (CriterionResult & { durationMs: number })[];
}

// Runs an exercise's checks against a sandbox and turns whatever happens — a pass, a specific
// failure, a hang, a crash, garbage output — into one result per criterion. Never throws for a
// learner's mistake. Checks run with the lab image's own tools (engine.inspect), so a learner, root
// in the sandbox, cannot make one pass by replacing the programs it runs. Checks of one sandbox run
// one at a time (they may send traffic that would disturb each other); across sandboxes, at most
// `concurrency` checks run at once.
export class Grader {
  private readonly queues = new Map<string, Promise<unknown>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly engine: Engine, private readonly concurrency: number) {}

  grade(sandboxId: string, exercise: Exercise, options: { liveOnly?: boolean } = {}): Promise<Verdict> {
    const checks = options.liveOnly ? exercise.checks.filter((check) => check.live !== false) : exercise.checks;
    const previous = this.queues.get(sandboxId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.withSlot(() => this.runChecks(sandboxId, checks)));
    this.queues.set(sandboxId, next);
    void next.finally(() => {
      if (this.queues.get(sandboxId) === next) this.queues.delete(sandboxId);
    }).catch(() => {});
    return next;
  }

  private async runChecks(sandboxId: string, checks: Check[]): Promise<Verdict> {
    const batch = checks.length > 1 ? await this.runTogether(sandboxId, checks) : undefined;
    const results: Verdict['results'] = [];
    for (const [index, check] of checks.entries()) results.push(await this.runCheck(sandboxId, check, batch?.[index]));
    return { passed: results.every((result) => result.passed), results };
  }

  // All the checks in one inspect, with the image's own tools (server/grading/check-batch.ts); undefined if that could not be done.
  private async runTogether(sandboxId: string, checks: Check[]) {
    const timed = checks.map((check) => ({ ...check, timeoutMs: check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS }));
    try {
      return await runCheckBatch((command, options) => this.engine.inspect(sandboxId, command, options), timed, CHECK_OUTPUT_CAP_BYTES);
    } catch (error) {
      if (error instanceof SandboxGoneError) throw error;
      return undefined;
    }
  }

  // `ranInBatch`: the check's output from runTogether; without it, the check runs in an exec of its own.
  private async runCheck(sandboxId: string, check: Check, ranInBatch?: ExecResult) {
    const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const started = performance.now();
    const durationMs = () => Math.round(ranInBatch?.durationMs ?? performance.now() - started);
    const result = (passed: boolean, message: string) => ({ name: check.name, passed, message, durationMs: durationMs() });
    let out;
    try {
      out = ranInBatch ?? (await this.engine.inspect(sandboxId, ['bash', '-c', check.run], { timeoutMs, maxOutputBytes: CHECK_OUTPUT_CAP_BYTES }));
    } catch (error) {
      if (error instanceof SandboxGoneError) throw error;
      return result(false, `The check could not run: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (out.timedOut) return result(false, `The check did not finish within ${timeoutMs / 1000} s (\`${firstLine(check.run)}\`).`);
    if (out.truncated) return result(false, `The check's output was larger than ${CHECK_OUTPUT_CAP_BYTES / 1024} KiB, so it could not be judged.`);
    try {
      const verdict = check.pass(out);
      if (verdict === true) return result(true, 'Passed.');
      if (typeof verdict === 'string') return result(false, verdict);
      return result(false, check.fail ?? `Not yet: \`${firstLine(check.run)}\` did not show what was expected.`);
    } catch (error) {
      const reason = error instanceof UnreadableOutput ? error.message : String(error);
      const stderr = out.stderr.trim() ? ` It said: ${out.stderr.trim().split('\n')[0]}` : '';
      return result(false, `Could not read the output of \`${firstLine(check.run)}\` (${reason}).${stderr}`);
    }
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function firstLine(command: string) {
  const line = command.trim().split('\n')[0];
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
