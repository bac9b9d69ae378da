import { randomInt } from 'node:crypto';

// Letters without I and O, which are read as 1 and 0 off a projector. 24^4 × 10^4 ≈ 3.3 billion
// codes: with join attempts rate-limited per client (attempt-limit.ts), guessing one is hopeless.
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const FORMAT = /^[A-HJ-NP-Z]{4}-\d{4}$/;

export function newJoinCode() {
  const letters = Array.from({ length: 4 }, () => LETTERS[randomInt(LETTERS.length)]).join('');
  const digits = String(randomInt(10_000)).padStart(4, '0');
  return `${letters}-${digits}`;
}

// A code as typed by hand: any case, spaces or no dash. Undefined when it cannot be a code.
export function normalizeJoinCode(typed: string) {
  const compact = typed.toUpperCase().replace(/[\s-]/g, '');
  const code = `${compact.slice(0, 4)}-${compact.slice(4)}`;
  return FORMAT.test(code) ? code : undefined;
}
