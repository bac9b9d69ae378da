import zlib from 'node:zlib';
import type { RunningServer } from '../../test/support/server.ts';
import { CHAPTER, report, launchChromium } from './common.ts';

// What a browser really downloads to show a chapter (xterm.js is not among it: it loads with the lab).

export default async function firstLoadJavaScript(server: RunningServer) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const scripts = new Map<string, Promise<Buffer>>();
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.set(response.url(), response.body());
    });
    await page.goto(server.url + CHAPTER, { waitUntil: 'networkidle' });
    // The terminal (xterm.js) is not part of the first load: the page fetches it once idle or when a
    // lab comes into view, ahead of a click on Start lab. Its chunks are counted apart.
    const sizes = { page: { bytes: 0, files: 0 }, terminal: { bytes: 0, files: 0 } };
    for (const body of scripts.values()) {
      const code = await body;
      const part = code.includes('xterm-helper-textarea') ? sizes.terminal : sizes.page;
      part.bytes += zlib.gzipSync(code, { level: 9 }).length;
      part.files++;
    }
    const kb = ({ bytes, files }: { bytes: number; files: number }) => `${(bytes / 1024).toFixed(1)} KB gzip in ${files} files`;
    report(`chapter first-load JavaScript (${CHAPTER})`, kb(sizes.page), '≤ 200 KB');
    report('terminal code, fetched once the page is idle', kb(sizes.terminal));
  } finally {
    await browser.close();
  }
}
