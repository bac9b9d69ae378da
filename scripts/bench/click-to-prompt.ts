import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { DEFAULT_WARM_POOL, loadConfig } from '../../server/config.ts';
import { untilSandboxesWithShell } from '../../test/support/sandboxes.ts';
import { startServer } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { PORT, percentile, ms, report, launchChromium } from './common.ts';
import { startToShell, bareRuncContender } from './contenders.ts';

// What a learner waits for in the browser: from the click on Start lab to the first prompt xterm
// draws (seen by a MutationObserver), on the orientation chapter, each run a new learner on a page
// read to its end (the terminal's code loads before the click, as the lab comes into view). Three
// contenders in turns, 20 runs each: a second server with the default warm pool (each run is left
// to refill the pool before the next contender's: learners do not all click in the same second),
// the bench server, which has none, and bare runc from Node (`runc run -d` of the lab image +
// `runc exec -t` to a prompt), the floor.
export default async function clickToPrompt(server: RunningServer) {
  const RUNS = 20;
  const poolStateDir = '/run/wirelab-bench-pool';
  const poolDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-bench-pool-'));
  const pooled = await startServer({ port: PORT + 1, dataDir: poolDataDir, stateDir: poolStateDir, env: { WIRELAB_WARM_POOL: DEFAULT_WARM_POOL } });
  const bare = bareRuncContender('/run/wirelab-bench-bare');
  const samples = { pool: [] as number[], noPool: [] as number[], bare: [] as number[] };
  let browser;
  try {
    browser = await launchChromium();
    const poolSize = Object.values(loadConfig({}).warmPool.perLab).reduce((sum, count) => sum + count, 0);
    await untilSandboxesWithShell(poolStateDir, poolSize, 120_000);
    const contenders = [
      async () => {
        samples.pool.push(await clickToPromptIn(browser!, pooled.url));
        await untilSandboxesWithShell(poolStateDir, poolSize);
      },
      async () => samples.noPool.push(await clickToPromptIn(browser!, server.url)),
      async () => samples.bare.push((await startToShell(bare)).start),
    ];
    for (let round = 0; round < RUNS; round++) {
      for (const measure of round % 2 === 0 ? contenders : [...contenders].reverse()) await measure();
    }
  } finally {
    await browser?.close();
    await pooled.stop();
    fs.rmSync(poolDataDir, { recursive: true, force: true });
    await bare.cleanUp();
  }
  for (const [label, runs] of [['with the warm pool', samples.pool], ['without a pool', samples.noPool]] as const) {
    report(`browser: click → prompt drawn, ${label}, p50`, ms(percentile(runs, 50)), label === 'with the warm pool' ? '≤ 150 ms, < bare floor' : '');
    report(`browser: click → prompt drawn, ${label}, p95`, ms(percentile(runs, 95)));
  }
  report('bare runc floor (run -d + exec -t → prompt), p50', ms(percentile(samples.bare, 50)));
  report('bare runc floor, p95', ms(percentile(samples.bare, 95)));
}

async function clickToPromptIn(browser: Browser, baseUrl: string) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/learn/orientation`);
    return await clickToPromptOn(page, 'Start lab');
  } finally {
    await context.close();
  }
}

// On the orientation chapter, already open in `page`: the click on the button named → the first
// prompt xterm draws. The sandbox is ended afterwards (its files are kept).
export async function clickToPromptOn(page: Page, button: string) {
  const lab = page.locator('section[data-lab="orientation"]');
  await lab.scrollIntoViewIfNeeded();
  const start = lab.getByRole('button', { name: button });
  await start.waitFor();
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => {
    const marks = window as unknown as { clickedAt?: number; promptAt?: number };
    const section = document.querySelector('section[data-lab="orientation"]')!;
    section.addEventListener('click', () => (marks.clickedAt ??= performance.now()), { capture: true });
    new MutationObserver((_, observer) => {
      if (section.querySelector('.xterm-rows')?.textContent?.includes('#')) {
        marks.promptAt = performance.now();
        observer.disconnect();
      }
    }).observe(section, { childList: true, subtree: true, characterData: true });
  });
  await start.click();
  await page.waitForFunction(() => (window as unknown as { promptAt?: number }).promptAt !== undefined, undefined, { timeout: 20_000 });
  const elapsed = await page.evaluate(() => {
    const marks = window as unknown as { clickedAt: number; promptAt: number };
    return marks.promptAt - marks.clickedAt;
  });
  await page.evaluate(() => fetch('/api/labs/orientation/session', { method: 'DELETE' }));
  return elapsed;
}
