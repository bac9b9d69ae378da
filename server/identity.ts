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
    const value = readCookie(req.headers.cookie, LEARNER_COOKIE);
    const learnerId = value && this.verify(value);
    if (learnerId) return { learnerId };
    const fresh = randomUUID();
    const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    return {
      learnerId: fresh,
      cookie: `${LEARNER_COOKIE}=${fresh}.${this.sign(fresh)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR_S}${secure}`,
    };
  }

  // Only for a request that must not mint a learner (a WebSocket upgrade).
  existingLearnerOf(req: IncomingMessage) {
    const value = readCookie(req.headers.cookie, LEARNER_COOKIE);
    return (value && this.verify(value)) || undefined;
  }

  private sign(learnerId: string) {
    return createHmac('sha256', this.secret).update(learnerId).digest('base64url');
  }

  private verify(value: string) {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const learnerId = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.sign(learnerId));
    return given.length === expected.length && timingSafeEqual(given, expected) ? learnerId : undefined;
  }
}

function readCookie(header: string | undefined, name: string) {
  for (const part of header?.split(';') ?? []) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
