// What a learner may call themselves in a workshop: what the instructor's grid and the grade
// export show. Letters of any script, digits, spaces and a little punctuation; no markup, no
// control characters, and short enough to fit a grid row.
export const MAX_NAME_LENGTH = 40;
const ALLOWED = /^[\p{L}\p{M}\p{N} .,'’_()-]+$/u;

export class NameError extends Error {}

export function validDisplayName(typed: string) {
  const name = typed.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (!name) throw new NameError('Enter a name: your instructor sees it beside your progress.');
  if (name.length > MAX_NAME_LENGTH) throw new NameError(`That name is ${name.length} characters long: keep it to ${MAX_NAME_LENGTH}.`);
  if (!ALLOWED.test(name)) throw new NameError('Use letters, digits, spaces and . , \' _ ( ) - only in your name.');
  if (!/[\p{L}\p{N}]/u.test(name)) throw new NameError('Your name needs at least one letter or digit.');
  return name;
}
