// What the bench's figures share: the numbers' formatting, the ports and dirs, the browser.
import path from 'node:path';
import { chromium } from '@playwright/test';
import type WebSocket from 'ws';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
// Overridable, so that two checkouts on one machine can measure side by side.
export const PORT = Number(process.env.WIRELAB_BENCH_PORT ?? 3150);
export const STATE_DIR = process.env.WIRELAB_BENCH_STATE_DIR ?? '/run/wirelab-bench';
export const CHAPTER = '/learn/under-the-hood';
export const IDLE_SANDBOXES = 100;
export const LOGIN_SHELL = ['bash', '-l'];
export const TTY_SIZE = { cols: 80, rows: 24 };

export const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
export const ms = (value: number) => `${value.toFixed(1)} ms`;
export const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const report = (label: string, value: string, target = '') => console.log(`${label.padEnd(52)} ${value.padEnd(26)} ${target && `target ${target}`}`);

export function firstOutput(ws: WebSocket) {
  return new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('message', () => {
      ws.off('error', reject);
      resolve();
    });
  });
}

// Debian's chromium, as the browser tests run it (playwright.config.ts).
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
