import type { Check } from '../../labs/define-lab.ts';
import type { ExecOptions, ExecResult } from '../engine/engine.ts';

// Each `runc exec` costs about 15 ms of CPU on the host (runc, its init, the namespaces joined)
// before the command runs, and an exercise has two to five checks: under 30 learners on two cores
// that cost, not the checks, made checks queue (measured: a four-check exercise graded in 100 ms
// one exec per check, 40 ms in one exec). So an exercise's checks run in one exec, one after the
// other as before, each in its own `bash -c` under its own `timeout`, with its own output and
// exit status; nothing about a check changes but the exec it shares.
const RUNNER = String.raw`
cap=$1; shift
dir=$(mktemp -d) || exit 97
trap 'rm -rf "$dir"' EXIT
while [ $# -gt 0 ]; do
  seconds=$1 command=$2; shift 2
  started=$EPOCHREALTIME
  timeout -s KILL "$seconds" bash -c "$command" </dev/null >"$dir/out" 2>"$dir/err"
  code=$?
  ended=$EPOCHREALTIME
  printf '%s %s %s %s %s %s %s\n' "$code" "$started" "$ended" "$(stat -c %s "$dir/out")" "$(stat -c %s "$dir/err")" \
    "$(head -c "$cap" "$dir/out" | base64 -w0)" "$(head -c "$cap" "$dir/err" | base64 -w0)"
done`;

export type Exec = (command: string[], options: ExecOptions) => Promise<ExecResult>;

// What each check printed and how it ended, in order; undefined when the batch itself could not
// run (no room for its temporary files, say): the caller then runs the checks one exec each.
export async function runCheckBatch(exec: Exec, checks: (Check & { timeoutMs: number })[], capBytes: number): Promise<ExecResult[] | undefined> {
  const seconds = checks.map((check) => Math.max(1, Math.ceil(check.timeoutMs / 1000)));
  const args = checks.flatMap((check, index) => [String(seconds[index]), check.run]);
  const batch = await exec(['bash', '-c', RUNNER, 'checks', String(capBytes), ...args], {
    timeoutMs: seconds.reduce((sum, s) => sum + s * 1000, 5_000),
    // Base64 makes each output a third larger.
    maxOutputBytes: checks.length * (Math.ceil((capBytes * 2 * 4) / 3) + 256),
  });
  const lines = batch.stdout.split('\n').filter(Boolean);
  if (batch.exitCode !== 0 || batch.truncated || lines.length !== checks.length) return undefined;
  const results = lines.map((line, index): ExecResult | undefined => {
    const fields = line.split(' ');
    if (fields.length !== 7) return undefined;
    const [code, started, ended, outSize, errSize] = fields.slice(0, 5).map(Number);
    const durationMs = (ended - started) * 1000;
    return {
      // GNU timeout exits 137 (128 + SIGKILL) when it had to kill the command.
      exitCode: code,
      timedOut: code === 137 && durationMs >= seconds[index] * 1000,
      stdout: Buffer.from(fields[5], 'base64').toString('utf8'),
      stderr: Buffer.from(fields[6], 'base64').toString('utf8'),
      truncated: outSize > capBytes || errSize > capBytes,
      durationMs,
    };
  });
  return results.every((result) => result !== undefined) ? (results as ExecResult[]) : undefined;
}
