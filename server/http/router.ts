import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Refusal } from '../limits/refusal.ts';
import { log } from '../ops/log.ts';
import { countIfSqliteError, refusals } from '../ops/metrics.ts';
import { CapacityError } from '../sandboxes/sessions.ts';
import { EventStream } from './event-stream.ts';
import { HttpError, sendJson } from './json.ts';
import { sendRefusal } from './refusal.ts';
import { TextStream } from './text-stream.ts';

export type Route<Handler> = [method: string, pattern: RegExp, handler: Handler];

// A file to save (a grade export, a learner's files): sent with its type and the name the browser saves it under.
export class Download {
  constructor(readonly body: string | Readable, readonly contentType: string, readonly fileName: string) {}
}

// Answers a request with the route its method and path match: the handler's reply, or the error
// it threw as a status and a sentence.
export async function serveRoute<Handler>(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Route<Handler>[],
  invoke: (handler: Handler, params: Record<string, string>) => Promise<[number, unknown]>,
) {
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    const { handler, params } = matchRoute(routes, req.method, pathname);
    const [status, body] = await invoke(handler, params);
    await sendReply(res, status, body);
  } catch (error) {
    sendError(req, res, pathname, error);
  }
}

// The route for a request, with its decoded path parameters; a 404 or 405 that says why when none fits.
function matchRoute<Handler>(routes: Route<Handler>[], method: string | undefined, pathname: string) {
  const matches = routes.filter(([, pattern]) => pattern.test(pathname));
  if (matches.length === 0) throw new HttpError(404, `no API at ${pathname}`);
  const route = matches.find(([routeMethod]) => routeMethod === method);
  if (!route) throw new HttpError(405, `${method} is not supported at ${pathname}; use ${matches.map(([m]) => m).join(' or ')}`);
  const params = Object.fromEntries(Object.entries(pathname.match(route[1])?.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
  return { handler: route[2], params };
}

async function sendReply(res: ServerResponse, status: number, body: unknown) {
  if (body instanceof TextStream || body instanceof EventStream) return body.send(res);
  if (body instanceof Download) {
    res.writeHead(status, {
      'content-type': body.contentType,
      'content-disposition': `attachment; filename="${body.fileName}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (typeof body.body === 'string') return void res.end(body.body);
    // A browser that goes away mid-download just ends the stream.
    return pipeline(body.body, res).catch(() => res.destroy());
  }
  sendJson(res, status, body);
}

// What went wrong, as the page can show it: a sentence and a status; anything unforeseen is logged.
function sendError(req: IncomingMessage, res: ServerResponse, pathname: string, error: unknown) {
  if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message, ...error.extra });
  if (error instanceof Refusal) return sendRefusal(res, error);
  if (error instanceof CapacityError) {
    refusals.inc({ reason: 'sandbox-capacity' });
    res.setHeader('retry-after', String(error.retryAfterMinutes * 60));
    return sendJson(res, 503, { error: error.message, retryAfterMinutes: error.retryAfterMinutes });
  }
  countIfSqliteError(error);
  log.error({ err: error, method: req.method, path: pathname }, 'request failed');
  sendJson(res, 500, { error: `The server could not do that: ${error instanceof Error ? error.message : String(error)}` });
}
