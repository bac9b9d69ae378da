import { expect, test } from './fixtures';

test('the course map lists the six parts with their summary and time', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Life of a Packet');
  const parts = page.getByTestId('course-part');
  await expect(parts).toHaveCount(6);
  for (let part = 0; part < 6; part++) {
    await expect(parts.nth(part)).toContainText(`Part ${part}`);
    await expect(parts.nth(part)).toContainText(/about \d+ min/);
  }
  await expect(parts.nth(5)).not.toContainText('in preparation');
  await parts.nth(1).getByRole('link').click();
  await expect(page).toHaveURL(/\/learn\/networking-101$/);
});

test('a chapter shows highlighted code in both themes, and the theme toggle remembers', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/learn/networking-101');
  const token = page.locator('pre.shiki span[style*="--shiki-light"]').first();
  await expect(token).toBeVisible();
  const lightColour = await token.evaluate((element) => getComputedStyle(element).color);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(() => token.evaluate((element) => getComputedStyle(element).color)).not.toBe(lightColour);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});

test('the theme follows the system until the learner picks one', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/learn/orientation');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('the table of contents links to the headings of the chapter', async ({ page }) => {
  await page.goto('/learn/under-the-hood');
  const contents = page.getByRole('navigation', { name: 'On this page' });
  const links = contents.getByRole('link');
  expect(await links.count()).toBeGreaterThanOrEqual(4);
  const last = links.last();
  const target = (await last.getAttribute('href'))!;
  await last.click();
  await expect(page).toHaveURL(new RegExp(`${target}$`));
  await expect(page.locator(target)).toBeInViewport();
});

test('previous/next and the sidebar move between parts', async ({ page }) => {
  await page.goto('/learn/orientation');
  await expect(page.getByRole('link', { name: /Part 0/ })).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Previous and next part' }).getByRole('link', { name: /Part 1/ }).click();
  await expect(page).toHaveURL(/\/learn\/networking-101$/);
  await page.getByRole('navigation', { name: 'Previous and next part' }).getByRole('link', { name: /Part 0/ }).click();
  await expect(page).toHaveURL(/\/learn\/orientation$/);
  const sidebar = page.getByRole('navigation', { name: 'Course' });
  await sidebar.getByRole('link', { name: /IPsec VPC/ }).click();
  await expect(page).toHaveURL(/\/learn\/ipsec-vpc$/);
  await expect(sidebar.locator('[aria-current="page"]')).toContainText('IPsec VPC');
  // Every part of the course is written: none is marked "in preparation", on the page or the map.
  await expect(page.getByTestId('in-preparation')).toHaveCount(0);
  await page.goto('/');
  await expect(page.getByText('in preparation')).toHaveCount(0);
});

test('callouts, figures with alt text and a copy button on code', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/learn/orientation');
  const figure = page.locator('figure img').first();
  await expect(figure).toHaveAttribute('alt', /\w{10,}/);
  expect(await figure.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await page.goto('/learn/networking-101');
  await expect(page.locator('aside[aria-label]').filter({ hasText: /Note|Warning|Deep dive/ }).first()).toBeVisible();
  const block = page.locator('pre.shiki').first();
  await block.hover();
  await block.locator('..').getByRole('button', { name: 'Copy code' }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied.length).toBeGreaterThan(0);
  expect((await block.textContent())!.trim()).toBe(copied.trim());
});

test('on a 360 px phone the chapter fits and the menus fold', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto('/learn/under-the-hood');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const sidebar = page.getByRole('navigation', { name: 'Course' });
  await expect(sidebar.getByRole('link').first()).toBeHidden();
  await sidebar.getByRole('button', { name: 'All parts' }).click();
  await sidebar.getByRole('link', { name: /Bottlenecks/ }).click();
  await expect(page).toHaveURL(/\/learn\/bottlenecks$/);
});

test('the keyboard alone reaches the content and the navigation', async ({ page }) => {
  await page.goto('/learn/orientation');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
  await page.getByRole('navigation', { name: 'Course' }).getByRole('link', { name: /Networking 101/ }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/learn\/networking-101$/);
});

test('an unknown chapter is a 404 page that leads back', async ({ page }) => {
  const response = await page.goto('/learn/no-such-part');
  expect(response?.status()).toBe(404);
  await page.getByRole('link', { name: 'Back to the course map' }).click();
  await expect(page.getByTestId('course-part')).toHaveCount(6);
});
