import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Checking } from './checking.ts';
import type { Session } from './sessions.ts';

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const MAX_REQUEST_BYTES = 1024;
// The in-sandbox `lab` script reads this last line for its exit status.
const exitLine = (code: number) => `\n__wirelab_exit__ ${code}\n`;

// Serves the `lab` command inside a sandbox over a Unix socket in the sandbox's service dir
// (the sandbox has no network). Whoever reaches the socket is inside that one sandbox, so the
// socket itself says which learner and lab are asking.
export function serveLabCommand(session: Session, checking: Checking): () => void {
  const socketPath = path.join(session.sandbox.serviceDir, 'lab.sock');
  fs.rmSync(socketPath, { force: true });
  // The in-sandbox client (socat) closes its sending side once the request is sent; the answer
  // must still go back on the half-open connection.
  const server = net.createServer({ allowHalfOpen: true }, (connection) => {
    let request = '';
    connection.setEncoding('utf8');
    connection.on('error', () => {});
    connection.on('data', (chunk: string) => {
      request += chunk;
      if (request.length > MAX_REQUEST_BYTES) return connection.end(`lab: request too long${exitLine(2)}`);
      if (!request.includes('\n')) return;
      answer(session, checking, request.split('\n')[0].trim().split(/\s+/).filter(Boolean))
        .then(({ text, code }) => connection.end(text + exitLine(code)))
        .catch((error: unknown) => connection.end(`lab: ${error instanceof Error ? error.message : String(error)}${exitLine(1)}`));
    });
  });
  server.listen(socketPath);
  server.on('error', (error) => console.error(`wirelab: the lab command socket of session ${session.id} failed:`, error));
  return () => server.close();
}

async function answer(session: Session, checking: Checking, [verb, exerciseId]: string[]) {
  const exercises = session.lab.exercises;
  if (verb === 'list' || verb === undefined) {
    const lines = exercises.map((exercise) => `  ${BOLD}${exercise.id}${RESET}  ${exercise.title}`);
    return { text: `Exercises of lab ${session.lab.id} (${session.lab.title}):\n${lines.join('\n')}\n\nlab check [exercise]   check your work\nlab hint <exercise>    a nudge\n`, code: 0 };
  }
  const chosen = exerciseId ? exercises.filter((exercise) => exercise.id === exerciseId) : exercises;
  if (chosen.length === 0) return { text: `lab: no exercise "${exerciseId}" in this lab; try: ${exercises.map((e) => e.id).join(', ')}\n`, code: 2 };
  if (verb === 'hint') {
    if (!exerciseId) return { text: `lab: which exercise? lab hint <${exercises.map((e) => e.id).join('|')}>\n`, code: 2 };
    return { text: `${chosen[0].hint}\n`, code: 0 };
  }
  if (verb !== 'check') return { text: `lab: unknown command "${verb}"; try lab check, lab hint <exercise>, lab list\n`, code: 2 };

  const out: string[] = [];
  let allPassed = true;
  for (const exercise of chosen) {
    const verdict = await checking.check(session, exercise, 'terminal');
    allPassed &&= verdict.passed;
    out.push(`${BOLD}${exercise.title}${RESET} ${DIM}(${exercise.id})${RESET}: ${verdict.passed ? `${GREEN}passed${RESET}` : `${RED}not yet${RESET}`}`);
    for (const result of verdict.results) {
      out.push(result.passed ? `  ${GREEN}✓${RESET} ${result.name}` : `  ${RED}✗${RESET} ${result.name}\n      ${result.message}`);
    }
  }
  return { text: `${out.join('\n')}\n`, code: allPassed ? 0 : 1 };
}
