import { constants } from 'node:os';
import type { Engine } from '../engine/engine.ts';

const MIB = 1024 * 1024;
const NEW_SHELL = 'Press Enter for a new shell.';

// Why a learner's shell ended, in the sentence their terminal shows: a terminal that goes quiet
// without a word looks alive and answers nothing. `oomKillsBefore` is the sandbox's count of OOM
// kills when the shell started, so a kill of this shell is told apart from an older one.
export async function explainShellExit(engine: Engine, sandboxId: string, exitCode: number, oomKillsBefore: Promise<number>) {
  const memory = await engine.memory(sandboxId).catch(() => null);
  if (!memory) return { message: 'The sandbox has stopped, and this shell with it.', sandboxGone: true };
  if (memory.oomKills > (await oomKillsBefore)) {
    const limit = Math.round(memory.limitBytes / MIB);
    return {
      message: `Your shell was killed: the sandbox ran out of its ${limit} MiB of memory, and the kernel's OOM killer ended the biggest program in it. ${NEW_SHELL}`,
      sandboxGone: false,
    };
  }
  // runc exec exits 128 + n when the shell died of signal n.
  if (exitCode > 128) {
    const signal = Object.entries(constants.signals).find(([, number]) => number === exitCode - 128)?.[0] ?? `signal ${exitCode - 128}`;
    return { message: `Your shell was killed by ${signal}. ${NEW_SHELL}`, sandboxGone: false };
  }
  return { message: `The shell exited${exitCode ? ` with status ${exitCode}` : ''}. ${NEW_SHELL}`, sandboxGone: false };
}
