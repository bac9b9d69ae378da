import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { startServer, type RunningServer } from '../test/support/server.ts';

// Overridable so that two checkouts on one machine can run their browser tests side by side.
const PORT = Number(process.env.WIRELAB_E2E_PORT ?? 3100);
const STATE_DIR = process.env.WIRELAB_E2E_STATE_DIR ?? '/run/wirelab-e2e';

interface Server {
  url: string;
  // The server's data dir: where `npm run instructor` finds its database.
  dataDir: string;
  // Stops the server (as an operator would, with SIGTERM) and starts it again on the same data.
  restart: () => Promise<void>;
}

export const test = base.extend<{ shell: Shell }, { server: Server }>({
  server: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring
    async ({}, use) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-e2e-'));
      let running: RunningServer = await startServer({ port: PORT, dataDir, stateDir: STATE_DIR });
      await use({
        url: running.url,
        dataDir,
        restart: async () => {
          await running.stop();
          running = await startServer({ port: PORT, dataDir, stateDir: STATE_DIR });
        },
      });
      await running.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ server }, use) => use(server.url),
  shell: async ({ page }, use) => use(new Shell(page)),
});

export { expect };

// The lab's terminal as a learner uses it: click into it, type, read what it shows.
export class Shell {
  constructor(private readonly page: Page) {}

  screen(host = 'lab') {
    return this.page.getByTestId(`terminal-${host}`);
  }

  async startLab(labId: string) {
    await this.page.locator(`[data-lab="${labId}"]`).getByRole('button', { name: 'Start lab' }).click();
    await this.waitForPrompt();
  }

  async waitForPrompt(host = 'lab') {
    // The status of the lab that holds this terminal: a chapter has other labs and counters panels.
    const lab = this.page.locator('section[data-lab]', { has: this.screen(host) });
    await expect(lab.getByRole('status').first()).toHaveText('Ready', { timeout: 30_000 });
    await expect(this.screen(host)).toContainText('#', { timeout: 30_000 });
  }

  async type(text: string, host = 'lab') {
    await this.screen(host).click();
    for (const line of text.split('\n')) await this.page.keyboard.type(`${line}\n`, { delay: 5 });
  }

  async run(command: string, expected: RegExp | string, host = 'lab') {
    await this.type(command, host);
    await expect(this.screen(host)).toContainText(expected);
  }
}
