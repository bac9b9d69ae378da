import type { IncomingMessage } from 'node:http';

// A request from one of our own pages: its Origin (when the browser sends one) names this host.
// Browsers always send Origin on WebSocket upgrades and cross-site POSTs, so this stops another
// site from driving a learner's terminal or checks with the learner's cookie.
export function isSameOrigin(req: IncomingMessage) {
  const origin = req.headers.origin;
  if (!origin) return req.method === 'GET' && !req.headers.upgrade;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
