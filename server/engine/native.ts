import { execFileSync } from 'node:child_process';
import path from 'node:path';

const NATIVE_DIR = path.resolve(import.meta.dirname, 'native');

// The small C programs the runc engine runs as host root for its sandboxes (native/*.c: what each
// does and why Node cannot). make rebuilds them when their source changed, and does nothing
// otherwise, so every start runs the programs that match the checked-out source.
export function nativeHelpers() {
  try {
    execFileSync('make', ['-s', '-C', NATIVE_DIR], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const details = error && typeof error === 'object' && 'stderr' in error ? String(error.stderr).trim() : String(error);
    throw new Error(`wirelab: could not build the sandbox helpers in ${NATIVE_DIR} (they need make and a C compiler: scripts/setup.sh installs them): ${details}`);
  }
  return {
    bpffsHook: path.join(NATIVE_DIR, 'build', 'bpffs-hook'),
    netnsKnob: path.join(NATIVE_DIR, 'build', 'netns-knob'),
    pristineExec: path.join(NATIVE_DIR, 'build', 'pristine-exec'),
  };
}
