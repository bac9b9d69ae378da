import type { RunningServer } from '../../test/support/server.ts';
import { clickToPromptOn } from './click-to-prompt.ts';
import { launchChromium, ms, percentile, report } from './common.ts';
import { sandboxContender, startToShell } from './contenders.ts';

const RUNS = 20;

// What keeping learners' files on disk costs them. In chromium, on the bench server (no warm pool):
// a new learner's click on Start lab → prompt, then, after End and a reload, the same learner's click
// on "Start lab on my files" → prompt (the image is checked and mounted, the setup runs again), 20
// runs each in turns. Then the engine alone, start → prompt byte, with the sandboxes' images on the
// host's disk and the same images in memory (/dev/shm), in turns: the disk's own share of a start.
export default async function keptFiles(server: RunningServer) {
  const samples = { fresh: [] as number[], resumed: [] as number[], disk: [] as number[], memory: [] as number[] };
  const browser = await launchChromium();
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${server.url}/learn/orientation`);
        samples.fresh.push(await clickToPromptOn(page, 'Start lab'));
        await page.reload();
        samples.resumed.push(await clickToPromptOn(page, 'Start lab on my files'));
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  const onDisk = sandboxContender('user-namespace', '/run/wirelab-bench-disk', { volumesDir: '/var/lib/wirelab-bench-files', label: 'files on disk' });
  const inMemory = sandboxContender('user-namespace', '/run/wirelab-bench-memory', { volumesDir: '/dev/shm/wirelab-bench-files', label: 'files in memory' });
  try {
    for (let round = 0; round < RUNS; round++) {
      const order = round % 2 === 0 ? ['disk', 'memory'] as const : ['memory', 'disk'] as const;
      for (const where of order) samples[where].push((await startToShell(where === 'disk' ? onDisk : inMemory)).start);
    }
  } finally {
    await onDisk.cleanUp();
    await inMemory.cleanUp();
  }
  const p50 = (runs: number[]) => percentile(runs, 50);
  report('browser: click → prompt, a fresh start, p50', ms(p50(samples.fresh)));
  report('browser: click → prompt, resumed on kept files, p50', ms(p50(samples.resumed)));
  report('browser: click → prompt, resumed on kept files, p95', ms(percentile(samples.resumed, 95)));
  report('resumed / fresh, p50', `${(p50(samples.resumed) / p50(samples.fresh)).toFixed(2)} ×`, '≤ 2 ×');
  report('engine: start → prompt byte, images on disk, p50', ms(p50(samples.disk)));
  report('engine: start → prompt byte, images in memory, p50', ms(p50(samples.memory)));
  report('the disk\'s share of a start (disk − memory), p50', ms(p50(samples.disk) - p50(samples.memory)));
}
