import type { ServerResponse } from 'node:http';
import type { Refusal } from '../limits/refusal.ts';
import { sendJson } from './json.ts';

// 429 with Retry-After (seconds, for clients and proxies) and the sentence the page shows.
export function sendRefusal(res: ServerResponse, refusal: Refusal) {
  res.setHeader('retry-after', String(refusal.retryAfterSeconds));
  sendJson(res, 429, { error: refusal.message, retryAfterSeconds: refusal.retryAfterSeconds });
}
