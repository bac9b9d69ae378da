import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

// `npm run instructor -- <args>` against a server's data dir, as an operator runs it: its output.
export function instructorCommand(dataDir: string, ...args: string[]) {
  const { WIRELAB_DB: _elsewhere, ...env } = process.env;
  return execFileSync(process.execPath, ['--import', 'tsx', 'scripts/instructor.ts', ...args], {
    cwd: ROOT,
    env: { ...env, WIRELAB_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

// The password the command printed, once.
export const printedPassword = (output: string) => output.match(/^ {2}(\S{20})$/m)![1];
