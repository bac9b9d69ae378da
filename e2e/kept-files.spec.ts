import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../test/support/server.ts';
import { Shell } from './fixtures.ts';

// A learner's files outlive their sandbox: an idle stop, a graceful restart, a crash. These tests
// run servers of their own (short idle timeout, a small disk), apart from the other specs' server.
// The terminal's rows read as one string: patterns allow for lines that run together.
const PORT = Number(process.env.WIRELAB_E2E_KEPT_PORT ?? 3120);
const STATE_DIR = '/run/wirelab-e2e-kept';
const LAB = '[data-lab="orientation"]';

let dataDir: string;
let server: RunningServer | undefined;
const start = async (env: Record<string, string>) => {
  server = await startServer({ port: PORT, dataDir, stateDir: STATE_DIR, env });
};
test.beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-e2e-kept-'));
});
test.afterEach(async () => {
  await server?.stop();
  server = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('files in /root and /etc survive an idle stop, a graceful restart and a SIGKILL restart', async ({ page }) => {
  test.setTimeout(180_000);
  const shell = new Shell(page);
  await start({ WIRELAB_IDLE_MINUTES: '0.1' });
  await page.goto(`${server!.url}/learn/orientation`);
  await shell.startLab('orientation');
  await shell.run('echo lunch > /root/notes.txt; echo "# edited" >> /etc/hosts; echo saved', /saved/);

  // Away for longer than the idle timeout: the page says what happened and what was kept.
  const ended = page.locator(LAB).getByTestId('lab-ended');
  await expect(ended).toContainText('Your sandbox was stopped after 6 seconds idle — your files are kept', { timeout: 30_000 });
  await expect(ended.getByRole('link', { name: 'Download my files' })).toBeVisible();
  // The rest of the test takes longer than that timeout: the same data on a server with the default one.
  // This one leaves sandboxes running when it stops, as for an upgrade.
  await server!.stop();
  await start({ WIRELAB_SANDBOXES_ON_STOP: 'keep-running' });
  await page.locator(LAB).getByRole('button', { name: 'Start lab on my files' }).click();
  await shell.waitForPrompt();
  await shell.run('cat /root/notes.txt; tail -n1 /etc/hosts', /lunch\s*# edited/);

  // A graceful restart (an upgrade) with sandboxes kept running: the terminal reconnects to the same shell's sandbox.
  await shell.run('echo before-restart > /root/second.txt; echo ok1', /ok1/);
  await server!.stop('SIGTERM');
  await start({});
  await expect(shell.screen()).toContainText('The server is restarting');
  await shell.waitForPrompt();
  await shell.run('cat /root/notes.txt /root/second.txt', /lunch\s*before-restart/);

  // A crash: the next start re-adopts the sandbox, files and all.
  await server!.stop('SIGKILL');
  await start({});
  await shell.waitForPrompt();
  await shell.run('cat /root/second.txt; echo after-crash', /before-restart\s*after-crash/);

  // A graceful stop that ends sandboxes: the files stay for the next start.
  await server!.stop('SIGTERM');
  await start({});
  await page.reload();
  await expect(page.locator(LAB).getByTestId('lab-ended')).toContainText('The server was stopped, and your sandbox with it — your files are kept');
  await page.locator(LAB).getByRole('button', { name: 'Start lab on my files' }).click();
  await shell.waitForPrompt();
  await shell.run('cat /root/notes.txt /root/second.txt', /lunch\s*before-restart/);
});

test('filling /root says "No space left on device", the shell keeps answering, and the host keeps its disk', async ({ page }) => {
  test.setTimeout(120_000);
  const shell = new Shell(page);
  const limitMiB = 256;
  await start({ WIRELAB_LEARNER_DISK_MIB: String(limitMiB) });
  await page.goto(`${server!.url}/learn/orientation`);
  await shell.startLab('orientation');
  const free = () => {
    const stat = fs.statfsSync(dataDir);
    return stat.bavail * stat.bsize;
  };
  const before = free();
  await shell.type('dd if=/dev/zero of=/root/fill bs=1M count=2048; echo dd-done');
  await expect(shell.screen()).toContainText('No space left on device', { timeout: 90_000 });
  await expect(shell.screen()).toContainText('dd-done');
  await shell.type('echo still-here');
  await expect(shell.screen()).toContainText('still-here', { timeout: 1_000 });
  expect(before - free()).toBeLessThanOrEqual(limitMiB * 1024 * 1024);
  await expect(page.locator(LAB).getByTestId('memory-meter')).toContainText(/Memory \d+ \/ 512 MiB/);
});

test('Reset asks first, and says that it wipes the files', async ({ page }) => {
  const shell = new Shell(page);
  await start({});
  await page.goto(`${server!.url}/learn/orientation`);
  await shell.startLab('orientation');
  let question = '';
  page.once('dialog', (dialog) => {
    question = dialog.message();
    void dialog.dismiss();
  });
  await page.locator(LAB).getByRole('button', { name: 'Reset' }).click();
  expect(question).toMatch(/every file you changed in it .* is wiped/);
  await expect(page.locator(LAB)).toHaveAttribute('data-phase', 'ready');
});
