import { startServer, type RunningServer } from '../test/support/server.ts';
import { expect, test } from './fixtures';

// A server of its own, beside the suite's, with a start allowance of one an hour.
const PORT = Number(process.env.WIRELAB_E2E_PORT ?? 3100) + 1;
const STATE_DIR = `${process.env.WIRELAB_E2E_STATE_DIR ?? '/run/wirelab-e2e'}-limits`;

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer({ port: PORT, stateDir: STATE_DIR, env: { WIRELAB_RATE_SANDBOX_STARTS: '1/hour' } });
});
test.afterAll(() => server.stop());

test('a start the limits refuse is explained in the lab panel, and a refused Reset keeps the sandbox', async ({ page, shell }) => {
  await page.goto(`${server.url}/learn/orientation`);
  const lab = page.locator('[data-lab="orientation"]');
  await lab.scrollIntoViewIfNeeded();
  await shell.startLab('orientation');
  await shell.run('echo still-here > /root/mark; echo written', 'written');

  page.once('dialog', (dialog) => void dialog.accept());
  await lab.getByRole('button', { name: 'Reset' }).click();
  const sentence = 'Too many lab sandboxes were started from your network in a short time: try again in about 60 minutes.';
  await expect(lab.getByRole('alert')).toHaveText(sentence);
  await shell.waitForPrompt();
  await shell.run('cat /root/mark', 'still-here');

  await lab.getByRole('button', { name: 'End' }).click();
  await lab.getByRole('button', { name: 'Start lab on my files' }).click();
  await expect(lab.getByRole('alert')).toHaveText(sentence);
  await expect(lab.getByRole('button', { name: 'Start lab on my files' })).toBeVisible();
});
