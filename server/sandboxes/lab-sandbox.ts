import path from 'node:path';
import type { Lab } from '../../labs/define-lab.ts';
import type { Engine, Labels, Sandbox } from '../engine/engine.ts';

const LABS_DIR = path.resolve(import.meta.dirname, '..', '..', 'labs');
const SETUP_TIMEOUT_MS = 60_000;

export class LabSetupError extends Error {}

// A sandbox in the state a lab starts from: its files in /root, its setup run. Sessions and the
// self-test both start labs through here, so the self-test proves what learners get. On kept files
// (`resuming`) the setup runs again, since the kernel state it made is gone, but the lab's files
// the learner already has (and may have edited) stay as they are.
export async function startLabSandbox(
  engine: Engine,
  lab: Lab,
  labels: Labels,
  { volume, resuming = false }: { volume?: string; resuming?: boolean } = {},
): Promise<Sandbox> {
  const sandbox = await engine.create({ ...labels, lab: lab.id }, { volume });
  try {
    if (lab.files) await engine.copyIn(sandbox.id, path.join(LABS_DIR, lab.id, 'files'), '/root', { keepExisting: resuming });
    if (lab.setup) {
      const script = resuming ? `export LAB_RESUMING=1\n${lab.setup}` : lab.setup;
      const result = await engine.exec(sandbox.id, ['bash', '-euo', 'pipefail', '-c', script], {
        timeoutMs: SETUP_TIMEOUT_MS,
        maxOutputBytes: 64 * 1024,
      });
      if (result.exitCode !== 0) {
        throw new LabSetupError(`the setup of lab ${lab.id} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim()}`);
      }
    }
    return sandbox;
  } catch (error) {
    await engine.destroy(sandbox.id);
    throw error;
  }
}
