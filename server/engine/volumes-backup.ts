import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Copies every learner's kept files (the images of server/engine/volumes.ts) into `target`, sparse
// and with their last-use time, so a restored copy keeps its place in the retention sweep. An image
// a running sandbox has mounted is copied frozen (fsfreeze): its file system is consistent on disk
// and the learner's writes wait for the copy, a few milliseconds for a typical image.
export async function backupVolumes(volumesDir: string, target: string) {
  const started = performance.now();
  await fs.mkdir(target, { recursive: true, mode: 0o700 });
  const images = (await fs.readdir(volumesDir).catch(() => [] as string[])).filter((file) => file.endsWith('.ext4'));
  const mounts = await mountPointsByDevice();
  let bytes = 0;
  for (const file of images) {
    const image = path.join(volumesDir, file);
    const mountPoint = (await loopDevicesOf(image)).map((device) => mounts.get(device)).find(Boolean);
    const copy = () => run('cp', ['--sparse=always', '--preserve=timestamps,mode', image, path.join(target, file)]);
    if (mountPoint) await frozen(mountPoint, copy);
    else await copy();
    bytes += (await fs.stat(path.join(target, file))).blocks * 512;
  }
  return { images: images.length, bytes, ms: Math.round(performance.now() - started) };
}

async function frozen(mountPoint: string, work: () => Promise<unknown>) {
  await run('fsfreeze', ['--freeze', mountPoint]);
  try {
    await work();
  } finally {
    await run('fsfreeze', ['--unfreeze', mountPoint]);
  }
}

async function loopDevicesOf(image: string) {
  const { stdout } = await run('losetup', ['--list', '--associated', image, '--output', 'NAME', '--noheadings']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

async function mountPointsByDevice() {
  const table = await fs.readFile('/proc/self/mounts', 'utf8');
  return new Map(table.split('\n').filter(Boolean).map((line) => {
    const [device, mountPoint] = line.split(' ');
    return [device, mountPoint.replace(/\\040/g, ' ')] as const;
  }));
}
