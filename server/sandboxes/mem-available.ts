import fs from 'node:fs';

// The memory the kernel estimates new work can have without swapping (MemAvailable in
// /proc/meminfo), in bytes: what the warm pool leaves room in, and what the bench and the load test
// watch. A kernel that does not report it (older than 3.14) counts as having room.
export function memAvailable() {
  const match = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : Infinity;
}
