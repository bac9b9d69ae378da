import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';

export const LEARNER_COOKIE = 'wirelab_learner';
const ONE_YEAR_S = 365 * 24 * 3600;

// Anonymous learners: a random id in a signed, httpOnly cookie. The signature is what makes the
// id a credential: without the server's secret nobody can forge the cookie of another learner.
export class Identity {
  private readonly secret: Buffer;

  constructor(dataDir: string) {
    const file = path.join(dataDir, 'cookie-secret');
    fs.mkdirSync(dataDir, { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    this.secret = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  }

  // The learner a request belongs to; `cookie` is set when the request had none (or a forged one).
  learnerOf(req: IncomingMessage): { learnerId: string; cookie?: string } {
    const learnerId = this.existingLearnerOf(req);
    if (learnerId) return { learnerId };
    const fresh = randomUUID();
    return { learnerId: fresh, cookie: this.learnerCookie(fresh, req) };
  }

  // The cookie that makes this browser the given learner (a new one, or one resuming on another device).
  learnerCookie(learnerId: string, req: IncomingMessage) {
    return `${LEARNER_COOKIE}=${this.signed(learnerId)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR_S}${secureFlag(req)}`;
  }

  // Only for a request that must not mint a learner (a WebSocket upgrade).
  existingLearnerOf(req: IncomingMessage) {
    const value = readCookie(req.headers.cookie, LEARNER_COOKIE);
    return (value && this.verified(value)) || undefined;
  }

  // "<value>.<signature>": the value, vouched for by the server's secret.
  signed(value: string) {
    return `${value}.${createHmac('sha256', this.secret).update(value).digest('base64url')}`;
  }

  // The value of a signed string, or undefined when the signature does not match (forged, or altered).
  verified(signedValue: string) {
    const dot = signedValue.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const value = signedValue.slice(0, dot);
    const given = Buffer.from(signedValue);
    const expected = Buffer.from(this.signed(value));
    return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
  }
}

// Behind a TLS reverse proxy the cookie must only travel over https.
export function secureFlag(req: IncomingMessage) {
  return req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
}

export function readCookie(header: string | undefined, name: string) {
  for (const part of header?.split(';') ?? []) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
