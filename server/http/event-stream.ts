import type { ServerResponse } from 'node:http';

// A response of Server-Sent Events, which the page reads with EventSource: one JSON message per
// event as it is produced. When the stream closes, EventSource reconnects by itself after `retry`;
// an `end` event, with the reason, tells the page not to (the producer returned a reason, or failed).
export class EventStream {
  constructor(
    private readonly produce: (send: (message: unknown) => void, signal: AbortSignal) => Promise<string | undefined>,
    private readonly retryMs: number,
  ) {}

  async send(res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // A reverse proxy (nginx) would otherwise hold the events back to fill its buffer.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${this.retryMs}\n\n`);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    let end: string | undefined;
    try {
      end = await this.produce((message) => res.write(`data: ${JSON.stringify(message)}\n\n`), gone.signal);
    } catch (error) {
      end = error instanceof Error ? error.message : String(error);
    }
    if (end !== undefined) res.write(`event: end\ndata: ${JSON.stringify({ reason: end })}\n\n`);
    res.end();
  }
}
