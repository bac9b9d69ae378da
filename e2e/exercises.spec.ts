import { findExercise } from '../labs/index.ts';
import { expect, test, type Shell } from './fixtures';
import type { Page } from '@playwright/test';

const solutionOf = (lab: string, exercise: string) => findExercise(lab, exercise)!.exercise.solution;

function exercisePanel(page: Page, lab: string, exercise: string) {
  return page.locator(`[data-exercise="${lab}/${exercise}"]`);
}

async function openLab(page: Page, shell: Shell, chapter: string, lab: string) {
  await page.goto(`/learn/${chapter}`);
  await page.locator(`[data-lab="${lab}"]`).scrollIntoViewIfNeeded();
  await page.locator(`[data-lab="${lab}"]`).getByRole('button', { name: 'Start lab' }).click();
  await shell.waitForPrompt();
}

test('Part 0: bring up lo from the namespace’s own tab, then Check', async ({ page, shell }) => {
  await openLab(page, shell, 'orientation', 'orientation');
  const exercise = exercisePanel(page, 'orientation', 'loopback-up');
  await exercise.getByRole('checkbox', { name: 'Check as I type' }).uncheck();
  await page.locator('[data-lab="orientation"]').getByRole('tab', { name: 'fresh' }).click();
  await shell.waitForPrompt('fresh');

  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.getByText('lo in namespace fresh is still DOWN')).toBeVisible();
  await expect(exercise).toHaveAttribute('data-completed', 'false');

  await shell.type('ip link set lo up && ping -c 1 127.0.0.1', 'fresh');
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.getByTestId('exercise-complete')).toBeVisible();
});

test('Part 1: typing the solution turns the exercise green by itself; it stays complete after a reload and a server restart', async ({ page, shell, server }) => {
  await openLab(page, shell, 'networking-101', 'netns-veth');
  const exercise = exercisePanel(page, 'netns-veth', 'connect-red-blue');
  await expect(exercise).toHaveAttribute('data-completed', 'false');

  // Half done: the criterion met turns green by itself, the others stay neutral (no failures shown).
  await shell.type('ip netns add red; ip netns add blue');
  await expect(exercise.locator('[data-criterion="namespaces red and blue exist"]')).toHaveAttribute('data-passed', 'true', { timeout: 30_000 });
  await expect(exercise.locator('[data-criterion="red can ping blue"]')).toHaveAttribute('data-passed', '');
  await expect(exercise.locator('[data-passed="false"]')).toHaveCount(0);

  await shell.type(solutionOf('netns-veth', 'connect-red-blue'));
  // No click: live mode checks once the terminal settles.
  await expect(exercise.getByTestId('exercise-complete')).toBeVisible({ timeout: 30_000 });
  const criteria = await exercise.locator('[data-criterion]').evaluateAll((items) => items.map((item) => item.getAttribute('data-criterion')!));
  expect(criteria.length).toBeGreaterThan(1);

  await shell.type('clear; lab check connect-red-blue');
  await expect(shell.screen()).toContainText('passed');
  for (const criterion of criteria) await expect(shell.screen()).toContainText(`✓ ${criterion}`);

  await page.reload();
  await expect(exercisePanel(page, 'netns-veth', 'connect-red-blue').getByTestId('exercise-complete')).toBeVisible();

  await server.restart();
  await page.reload();
  await expect(exercisePanel(page, 'netns-veth', 'connect-red-blue').getByTestId('exercise-complete')).toBeVisible();
  await expect(page.getByTestId('exercise-count').first()).toContainText('1 of');
});

test('Part 2: capture an exchange to a pcap as a learner would, and Check reads it', async ({ page, shell }) => {
  await openLab(page, shell, 'under-the-hood', 'pcap');
  const exercise = exercisePanel(page, 'pcap', 'capture-echo');
  await exercise.getByRole('checkbox', { name: 'Check as I type' }).uncheck();
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.locator('[data-passed="false"]').first()).toBeVisible();

  await shell.type(solutionOf('pcap', 'capture-echo'));
  await shell.type('echo capture-finished');
  await expect(shell.screen()).toContainText('capture-finished', { timeout: 30_000 });
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.getByTestId('exercise-complete')).toBeVisible({ timeout: 30_000 });
});

test('Part 2: the page traces the learner\'s sandbox, and Stop still shows the count', async ({ page, shell }) => {
  await openLab(page, shell, 'under-the-hood', 'rx-path');
  const trace = page.locator('[data-lab="rx-path"]').getByLabel('Trace', { exact: true });
  await trace.getByRole('spinbutton').fill('30');
  await trace.getByRole('button', { name: 'Run trace' }).click();
  await expect(trace.getByText(/Tracing packets entering the stack .* in your sandbox/)).toBeVisible({ timeout: 20_000 });

  await page.locator('[data-lab="rx-path"]').getByRole('tab', { name: 'red' }).click();
  await shell.waitForPrompt('red');
  await shell.run('send-pings', 'send-pings: done', 'red');
  // Well before the 30 s are up: Stop ends the trace and the counts so far still arrive.
  await trace.getByRole('button', { name: 'Stop' }).click();
  await expect(trace.getByText(/@packets\[veth-b\]: \d+/)).toBeVisible({ timeout: 10_000 });
  await expect(trace.getByRole('button', { name: 'Run trace' })).toBeVisible();
});

test('Part 3: shaping a flow as a learner, the live counters show the qdisc dropping, and Check agrees', async ({ page, shell }) => {
  await openLab(page, shell, 'bottlenecks', 'shaping-tbf');
  const counters = page.locator('[data-counters="shaping-tbf"]');
  await expect(counters).toHaveAttribute('data-phase', 'live', { timeout: 20_000 });
  const exercise = exercisePanel(page, 'shaping-tbf', 'shape-red');
  await exercise.getByRole('checkbox', { name: 'Check as I type' }).uncheck();

  // The solution shapes veth-r and sends a one-second flood through it: the panel must see the drops.
  // The rate is above zero for about one sample, which a loaded page may paint over before the test
  // looks; the sparkline keeps a minute and marks a trouble counter that moved in it.
  await shell.type(solutionOf('shaping-tbf', 'shape-red'));
  await expect(counters.locator('[data-series="dropped"] svg').first()).toHaveAttribute('data-trouble', 'true', { timeout: 30_000 });
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.getByTestId('exercise-complete')).toBeVisible({ timeout: 30_000 });
});

test('Part 4: a program the verifier refuses is explained, with its C line, in the terminal and under Check', async ({ page, shell }) => {
  await openLab(page, shell, 'xdp-and-ebpf', 'verifier-fix');
  await shell.run('clear; lab explain xdp_guard.c', 'The verifier refused the program at xdp_guard.c:');
  await expect(shell.screen()).toContainText('invalid access to packet');
  await expect(shell.screen()).toContainText('udp->dest');

  const exercise = exercisePanel(page, 'verifier-fix', 'fix-and-attach');
  await exercise.getByRole('checkbox', { name: 'Check as I type' }).uncheck();
  await exercise.getByRole('button', { name: 'Check' }).click();
  const loads = exercise.locator('[data-criterion="xdp_guard.c passes the verifier"]');
  await expect(loads).toHaveAttribute('data-passed', 'false', { timeout: 30_000 });
  await expect(loads).toContainText(/xdp_guard\.c:\d+: if \(udp->dest/);
  await expect(loads).toContainText('data_end');
});

test('Part 5: a learner brings the IKEv2 tunnel up from the browser terminal, and the exercise turns green', async ({ page, shell }) => {
  // Two charons start and negotiate from typed commands: on a loaded machine that alone took over a minute.
  test.setTimeout(180_000);
  await openLab(page, shell, 'ipsec-vpc', 'ipsec-tunnel');
  const exercise = exercisePanel(page, 'ipsec-tunnel', 'ikev2-psk');
  await exercise.getByRole('checkbox', { name: 'Check as I type' }).uncheck();
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.locator('[data-passed="false"]').first()).toContainText('start-gateway cloud', { timeout: 30_000 });

  await shell.type(solutionOf('ipsec-tunnel', 'ikev2-psk'));
  await shell.run('clear; swanctl --list-sas --uri unix:///root/vpn/onprem/charon.vici | grep -E "ESTABLISHED|INSTALLED"', 'INSTALLED');
  await exercise.getByRole('button', { name: 'Check' }).click();
  await expect(exercise.getByTestId('exercise-complete')).toBeVisible({ timeout: 30_000 });
});

test('a quiz explains every answer and remembers it', async ({ page }) => {
  await page.goto('/learn/networking-101');
  const quiz = page.getByTestId('quiz-p1-quiz');
  await quiz.scrollIntoViewIfNeeded();
  const first = quiz.locator('form').first();
  await first.getByRole('radio').first().check();
  await first.getByRole('button', { name: 'Answer' }).click();
  await expect(first.getByText(/Correct\.|Not quite\./)).toBeVisible();
  const verdict = await first.getByText(/Correct\.|Not quite\./).textContent();

  await page.reload();
  const again = page.getByTestId('quiz-p1-quiz').locator('form').first();
  await expect(again.getByText(verdict!.includes('Correct') ? 'Correct.' : 'Not quite.')).toBeVisible();
  await expect(again.getByRole('radio').first()).toBeChecked();
});
