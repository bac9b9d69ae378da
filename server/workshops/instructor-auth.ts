import type { IncomingMessage } from 'node:http';
import type { Instructor, InstructorStore } from '../db/instructors.ts';
import { readCookie, secureFlag, type Identity } from '../http/identity.ts';
import { verifyPassword } from './password.ts';

export const INSTRUCTOR_COOKIE = 'wirelab_instructor';
// Signed values carry their purpose, so that no signed learner id or resume link is ever read as
// an instructor's session, nor the other way round.
const PURPOSE = 'instructor:';

// Instructors sign in with a name and password and get a cookie of their own, apart from the
// anonymous learner cookie: signed, httpOnly, SameSite=Strict, holding a session token the
// database can revoke (sign out, a new password, the account removed).
export class InstructorAuth {
  constructor(private readonly store: InstructorStore, private readonly identity: Identity) {}

  instructorOf(req: IncomingMessage): Instructor | undefined {
    const value = readCookie(req.headers.cookie, INSTRUCTOR_COOKIE);
    const token = value && this.identity.verified(value);
    if (!token?.startsWith(PURPOSE)) return undefined;
    return this.store.bySessionToken(token.slice(PURPOSE.length));
  }

  // The cookie that signs the instructor in, or undefined when the name or password is wrong.
  async signIn(name: string, password: string, req: IncomingMessage) {
    const found = this.store.byName(name);
    // An unknown name costs as long as a wrong password, so timing tells nothing about who exists.
    const matches = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
    if (!found || !matches) return undefined;
    const { token, maxAgeSeconds } = this.store.startSession(found.instructor.id);
    return { instructor: found.instructor, cookie: this.cookie(this.identity.signed(PURPOSE + token), maxAgeSeconds, req) };
  }

  // Ends the session the request carries; the answer's cookie clears it from the browser.
  signOut(req: IncomingMessage) {
    const value = readCookie(req.headers.cookie, INSTRUCTOR_COOKIE);
    const token = value && this.identity.verified(value);
    if (token?.startsWith(PURPOSE)) this.store.endSession(token.slice(PURPOSE.length));
    return this.cookie('', 0, req);
  }

  private cookie(value: string, maxAgeSeconds: number, req: IncomingMessage) {
    return `${INSTRUCTOR_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secureFlag(req)}`;
  }
}

// A valid hash of a password nobody has, checked against when the name is unknown.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
