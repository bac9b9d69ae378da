import type { KernelState } from '../db/session-records.ts';
import type { Engine } from '../engine/engine.ts';

// What a sandbox holds in its kernel that its files cannot keep: read as it ends with the learner's
// files kept, so that the page can say what the resumed sandbox no longer has instead of letting
// it go missing in silence. One line a kind, `kind:item item …`.
const SNAPSHOT = String.raw`
printf 'network namespaces:%s\n' "$(ip netns list 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')"
printf 'network devices:%s\n' "$(ip -o link show 2>/dev/null | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2 }' | tr '\n' ' ')"
printf 'pinned BPF objects:%s\n' "$(cd /run/bpf 2>/dev/null && find . -mindepth 1 ! -type d | sed 's|^\./||' | tr '\n' ' ')"
printf 'running programs:%s\n' "$(ps -e -o comm= | grep -Ev '^(tini|sleep|bash|sh|ps|grep|tr|sort|timeout|pristine-exec|lab)$' | sort -u | tr '\n' ' ')"
`;

export async function kernelStateOf(engine: Engine, sandboxId: string): Promise<KernelState | undefined> {
  try {
    const result = await engine.inspect(sandboxId, ['bash', '-c', SNAPSHOT], { timeoutMs: 5_000, maxOutputBytes: 64 * 1024 });
    const state: KernelState = {};
    for (const line of result.stdout.split('\n')) {
      const colon = line.indexOf(':');
      const items = line.slice(colon + 1).split(' ').filter(Boolean);
      if (colon > 0 && items.length) state[line.slice(0, colon)] = items;
    }
    return state;
  } catch {
    // A sandbox that is gone already (it crashed) has nothing left to name.
    return undefined;
  }
}
