import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { log } from '../ops/log.ts';
import { registry } from '../ops/metrics.ts';

export interface MetricsSettings {
  token?: string;
  port?: number;
  host: string;
}

// /metrics for Prometheus, served only where the operator said: on the site's own port to whoever
// shows WIRELAB_METRICS_TOKEN as a Bearer token, and/or on a listener of its own
// (WIRELAB_METRICS_PORT, on WIRELAB_METRICS_HOST) that the network keeps private. Without either
// setting it is not served at all: sandbox counts and refusals are not for every visitor.
export function metricsEndpoint(settings: MetricsSettings) {
  if (settings.port !== undefined) {
    const listener = http.createServer((req, res) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') return plain(res, 404, 'Not found: metrics are at /metrics\n');
      void sendMetrics(res);
    });
    listener.listen(settings.port, settings.host, () => log.info(`metrics on http://${settings.host}:${settings.port}/metrics`));
  }
  // Whether the site's own listener answered the request (it was for /metrics and metrics are served there).
  return function handleOnSitePort(req: IncomingMessage, res: ServerResponse): boolean {
    if (!settings.token || new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') return false;
    if (!bearerMatches(req.headers.authorization, settings.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="wirelab metrics"');
      plain(res, 401, 'Unauthorized: send the WIRELAB_METRICS_TOKEN as "Authorization: Bearer <token>"\n');
    } else {
      void sendMetrics(res);
    }
    return true;
  };
}

async function sendMetrics(res: ServerResponse) {
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  } catch (error) {
    log.error({ err: error }, 'collecting metrics failed');
    plain(res, 500, 'collecting metrics failed\n');
  }
}

function bearerMatches(header: string | undefined, token: string) {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function plain(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
