import fs from 'node:fs';
import type { Browser } from '@playwright/test';
import { instructorCommand, printedPassword } from '../test/support/instructors.ts';
import { expect, Shell, test } from './fixtures';

const LAB = 'orientation';
const EXERCISE = 'orientation/loopback-up';

// A learner in a browser of their own who joins with the code and opens the lab's chapter.
async function learnerJoins(browser: Browser, baseURL: string, code: string, name: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto(`/join/${code}`);
  await page.getByLabel('Your name, as your instructor will see it').fill(name);
  await page.getByRole('button', { name: 'Join the workshop' }).click();
  await expect(page.getByTestId('display-name')).toHaveText(name);
  await page.getByTestId('workshop-lab').first().click();
  await expect(page.getByTestId('workshop-banner')).toContainText(name);
  const exercise = page.locator(`[data-exercise="${EXERCISE}"]`);
  return { context, page, shell: new Shell(page), exercise };
}

test('an instructor runs a workshop: three learners join, the grid follows them live, a terminal is watched, a sandbox reset, grades exported', async ({ browser, server }) => {
  test.setTimeout(240_000);
  const password = printedPassword(instructorCommand(server.dataDir, 'add', 'grace'));
  const instructor = await (await browser.newContext({ baseURL: server.url, acceptDownloads: true })).newPage();
  await instructor.goto('/instructor/workshops/00000000-0000-0000-0000-000000000000');
  await expect(instructor).toHaveURL(/\/instructor\/login$/);
  await instructor.getByLabel('Name').fill('grace');
  await instructor.getByLabel('Password').fill(password);
  await instructor.getByRole('button', { name: 'Sign in' }).click();
  await instructor.getByLabel('Title').fill('Life of a Packet <live>');
  await instructor.getByRole('checkbox', { name: /A brand-new network namespace/ }).check();
  await instructor.getByRole('button', { name: 'Create the workshop' }).click();
  await expect(instructor.getByRole('heading', { level: 1 })).toHaveText('Life of a Packet <live>');
  const code = (await instructor.getByTestId('join-code').textContent())!;
  expect(code).toMatch(/^[A-HJ-NP-Z]{4}-\d{4}$/);

  const cellOf = (name: string) => instructor.locator(`[data-testid="grid-row"][data-learner="${name}"] [data-exercise="${EXERCISE}"]`);
  const [ada, brian, chloe] = [
    await learnerJoins(browser, server.url, code, 'Ada'),
    await learnerJoins(browser, server.url, code, 'Brian'),
    await learnerJoins(browser, server.url, code, 'Chloe'),
  ];
  // Nobody reloads the instructor's page from here on: every change arrives as an event.
  for (const name of ['Ada', 'Brian', 'Chloe']) await expect(cellOf(name)).toHaveAttribute('data-state', 'not-started');

  await ada.shell.startLab(LAB);
  await ada.shell.type('ip -n fresh link set lo up');
  await ada.exercise.getByRole('button', { name: 'Check' }).click();
  await expect(ada.exercise.getByTestId('exercise-complete')).toBeVisible();
  await expect(cellOf('Ada')).toHaveAttribute('data-state', 'passed');

  await brian.shell.startLab(LAB);
  await brian.exercise.getByRole('button', { name: 'Check' }).click();
  await expect(cellOf('Brian')).toHaveAttribute('data-state', 'working');
  await expect(cellOf('Brian')).toContainText('1 attempt');
  await expect(cellOf('Brian')).toContainText('✗ lo is up in namespace fresh');
  await expect(instructor.locator(`[data-testid="column-summary"][data-exercise="${EXERCISE}"]`)).toContainText('1/3 passed');
  await expect(instructor.locator(`[data-testid="column-summary"][data-exercise="${EXERCISE}"]`)).toContainText('stuck on “lo is up in namespace fresh” (1)');

  await chloe.exercise.getByRole('button', { name: 'Hint' }).click();
  await expect(cellOf('Chloe')).toHaveAttribute('data-hint', 'true');
  await expect(cellOf('Chloe')).toContainText('hint');

  // Watching Brian's terminal, read-only: he is told, and what he types shows up.
  await cellOf('Brian').click();
  const panel = instructor.getByTestId('learner-panel');
  await expect(panel).toContainText('lo in namespace fresh is still DOWN');
  await panel.getByRole('button', { name: 'Watch lab' }).click();
  const watched = panel.getByTestId('watched-terminal');
  await expect(watched).toContainText('#');
  await expect(brian.page.getByTestId('instructor-viewing')).toBeVisible();
  await brian.shell.run('echo watched-$((6 * 7))', 'watched-42');
  await expect(watched).toContainText('watched-42');
  await watched.locator('.xterm').click();
  await instructor.keyboard.type('echo from-the-instructor\n');
  await brian.shell.run('echo still-mine', 'still-mine');
  await expect(brian.shell.screen()).not.toContainText('from-the-instructor');

  // Resetting Brian's sandbox, after a confirmation: his page says so and reconnects to the fresh one.
  instructor.once('dialog', (dialog) => void dialog.accept());
  await panel.getByRole('button', { name: 'Reset sandbox' }).click();
  await expect(brian.page.getByTestId('workshop-notice')).toContainText('Your instructor reset your sandbox of lab orientation');
  await brian.shell.waitForPrompt();
  await brian.shell.run('ip -n fresh -br link show lo', /lo\s+DOWN/);

  // The export holds a row per learner, as the grid shows them.
  const downloading = instructor.waitForEvent('download');
  await instructor.getByTestId('export-csv').click();
  const csv = fs.readFileSync((await (await downloading).path())!, 'utf8').trim().split('\r\n');
  expect(csv[0]).toBe('learner,lab,exercise,passed,first passed at,attempts,hints viewed,solution viewed,seconds from first start to pass,quiz answers');
  expect(csv).toHaveLength(4);
  expect(csv.find((line) => line.startsWith('Ada,'))).toMatch(/^Ada,orientation,loopback-up,yes,\d{4}-[^,]+,\d+,0,no,\d+,$/);
  expect(csv.find((line) => line.startsWith('Brian,'))).toMatch(/^Brian,orientation,loopback-up,no,,1,0,no,,$/);
  expect(csv.find((line) => line.startsWith('Chloe,'))).toBe('Chloe,orientation,loopback-up,no,,0,1,no,,');

  for (const learner of [ada, brian, chloe]) await learner.context.close();
});
