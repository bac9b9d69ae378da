import type { ServerResponse } from 'node:http';

// A response the page reads as it is written, line by line (a trace's output). The producer stops
// when the browser goes away (`signal`); a failure after the first line becomes the last line.
export class TextStream {
  constructor(private readonly produce: (write: (line: string) => void, signal: AbortSignal) => Promise<void>) {}

  async send(res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      await this.produce((line) => res.write(`${line}\n`), gone.signal);
    } catch (error) {
      res.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    res.end();
  }
}
