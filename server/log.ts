import { pino } from 'pino';
import pretty from 'pino-pretty';
import { loadConfig } from './config.ts';
import type { Session } from './sessions.ts';

// The server's log: one JSON object a line for the machine that collects logs, or readable lines
// for a person at a terminal (WIRELAB_LOG_FORMAT, by default chosen by whether stdout is a TTY).
// Synchronous writes: a line logged just before process.exit is not lost.
const { format, level } = loadConfig().log;

export const log =
  format === 'pretty'
    ? pino({ level }, pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true }))
    : pino(
        { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
        pino.destination({ dest: 1, sync: true }),
      );

// Every line about one learner's sandbox carries whose it is and which, so one grep follows it.
export function sessionLog(session: Pick<Session, 'id' | 'learnerId' | 'lab' | 'sandbox'>) {
  return log.child({ learnerId: session.learnerId, sessionId: session.id, sandboxId: session.sandbox.id, labId: session.lab.id });
}
