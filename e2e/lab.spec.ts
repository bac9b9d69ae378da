import { expect, test } from './fixtures';

test('a lab gives a real root shell that outlives a reload, one tab per host, and Reset starts afresh', async ({ page, shell }) => {
  await page.goto('/learn/orientation');
  const lab = page.locator('[data-lab="orientation"]');
  await lab.scrollIntoViewIfNeeded();
  await shell.startLab('orientation');

  await shell.run('ip -br link', 'lo ');
  // The file holds 42, which the typed command does not show: only the real shell can print it.
  await shell.run('echo "kept-$((6 * 7))" > /root/keep.txt; echo written', 'written');

  await page.reload();
  await shell.waitForPrompt();
  await shell.run('cat /root/keep.txt', 'kept-42');

  await lab.getByRole('tab', { name: 'fresh' }).click();
  await shell.waitForPrompt('fresh');
  await shell.run('ip netns identify', 'fresh', 'fresh');

  page.once('dialog', (dialog) => void dialog.accept());
  await lab.getByRole('button', { name: 'Reset' }).click();
  await shell.waitForPrompt();
  await shell.run('ls /root/keep.txt', 'No such file or directory');
  await lab.getByRole('button', { name: 'End' }).click();
  await expect(lab.getByRole('button', { name: 'Start lab on my files' })).toBeVisible();
});
