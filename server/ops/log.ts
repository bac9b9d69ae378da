import { pino } from 'pino';
import pretty from 'pino-pretty';
import { loadConfig } from '../config.ts';

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
