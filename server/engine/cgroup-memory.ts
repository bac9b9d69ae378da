import fs from 'node:fs/promises';
import type { MemoryUse } from './engine.ts';

// A sandbox's memory as its cgroup counts it, less the page cache the kernel can drop at once
// (inactive file pages: the "working set", as the kubelet counts it), so that files just written
// do not look like memory about to run out. runc puts the sandbox in `cgroupsPath` of each
// hierarchy: under cgroup v1 (this kind of host) the memory controller's files, under v2 the
// unified ones. oom_kill in memory.oom_control (v1) and memory.events (v2) counts the processes
// the OOM killer ended there (Documentation/admin-guide/cgroup-v1/memory.rst, cgroup-v2.rst).
export async function cgroupMemory(cgroupPath: string): Promise<MemoryUse> {
  const v1 = `/sys/fs/cgroup/memory${cgroupPath}`;
  if (await readable(`${v1}/memory.usage_in_bytes`)) {
    const [used, limit, oom, stat] = await Promise.all(
      ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.oom_control', 'memory.stat'].map((file) => fs.readFile(`${v1}/${file}`, 'utf8')),
    );
    return { usedBytes: Number(used) - field(stat, 'total_inactive_file'), limitBytes: Number(limit), oomKills: field(oom, 'oom_kill') };
  }
  const v2 = `/sys/fs/cgroup${cgroupPath}`;
  const [used, limit, events, stat] = await Promise.all(['memory.current', 'memory.max', 'memory.events', 'memory.stat'].map((file) => fs.readFile(`${v2}/${file}`, 'utf8')));
  return { usedBytes: Number(used) - field(stat, 'inactive_file'), limitBytes: limit.trim() === 'max' ? Infinity : Number(limit), oomKills: field(events, 'oom_kill') };
}

function field(text: string, name: string) {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

function readable(file: string) {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
