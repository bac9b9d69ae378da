import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Exercise, Lab } from '../../labs/define-lab.ts';
import type { Engine, Sandbox } from '../engine/engine.ts';
import type { Verdict } from '../grading/grader.ts';
import { describeExplanation, explainVerifierLog, VERIFIER_LOAD } from '../../labs/verifier-log.ts';
import { KnobError, parseKnobRequest } from './knobs.ts';
import { log } from '../ops/log.ts';
import { traceRequest, TraceRequestError, type Tracer } from './tracing.ts';

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const MAX_REQUEST_BYTES = 1024;
// The in-sandbox `lab` script reads this last line for its exit status.
const exitLine = (code: number) => `\n__wirelab_exit__ ${code}\n`;

// What the `lab` command of one sandbox can reach on the server.
export interface LabCommandContext {
  sandbox: Sandbox;
  lab: Lab;
  engine: Engine;
  tracer: Tracer;
  // Checks an exercise and records the attempt.
  check: (exercise: Exercise) => Promise<Verdict>;
}

interface Request {
  // The network namespace the learner's shell is in ('' for the sandbox's own), as `ip netns identify` says.
  namespace: string;
  words: string[];
}

type Answer = { text: string; code: number };

// Serves the `lab` command inside a sandbox over a Unix socket in the sandbox's service dir
// (the sandbox has no network). Whoever reaches the socket is inside that one sandbox, so the
// socket itself says which learner and lab are asking. A request is two lines: the caller's
// network namespace, then the command's words.
export function serveLabCommand(context: LabCommandContext): () => void {
  const socketPath = path.join(context.sandbox.serviceDir, 'lab.sock');
  fs.rmSync(socketPath, { force: true });
  // The in-sandbox client (socat) closes its sending side once the request is sent; the answer
  // must still go back on the half-open connection.
  const server = net.createServer({ allowHalfOpen: true }, (connection) => {
    let received = '';
    connection.setEncoding('utf8');
    connection.on('error', () => {});
    connection.on('data', (chunk: string) => {
      received += chunk;
      if (received.length > MAX_REQUEST_BYTES) return connection.end(`lab: request too long${exitLine(2)}`);
      const lines = received.split('\n');
      if (lines.length < 3) return;
      connection.removeAllListeners('data');
      const request = { namespace: lines[0].trim(), words: lines[1].trim().split(/\s+/).filter(Boolean) };
      const write = (line: string) => connection.write(`${line}\n`);
      const ended = new AbortController();
      connection.on('close', () => ended.abort());
      answer(context, request, write, ended.signal)
        .then(({ text, code }) => connection.end(text + exitLine(code)))
        .catch((error: unknown) => connection.end(`lab: ${error instanceof Error ? error.message : String(error)}${exitLine(1)}`));
    });
  });
  server.listen(socketPath, () => {
    // The sandbox's root is an unprivileged user on the host: it may connect, and nothing more.
    fs.chmodSync(socketPath, 0o666);
  });
  server.on('error', (error) => log.error({ err: error, sandboxId: context.sandbox.id, labId: context.lab.id }, 'the lab command socket failed'));
  return () => {
    context.tracer.stop(context.sandbox.id);
    server.close();
  };
}

async function answer(context: LabCommandContext, { namespace, words }: Request, write: (line: string) => void, ended: AbortSignal): Promise<Answer> {
  const [verb, ...rest] = words;
  switch (verb) {
    case undefined:
    case 'list':
      return list(context.lab);
    case 'check':
    case 'hint':
      return checkOrHint(context, verb, rest[0]);
    case 'trace':
      return trace(context, rest, write, ended);
    case 'stop-trace':
      context.tracer.stop(context.sandbox.id);
      return { text: '', code: 0 };
    case 'set':
      return setKnob(context, namespace, rest);
    case 'explain':
      return explain(context, rest[0]);
    default:
      return { text: `lab: unknown command "${verb}"; try lab list\n`, code: 2 };
  }
}

function list(lab: Lab): Answer {
  const lines = lab.exercises.map((exercise) => `  ${BOLD}${exercise.id}${RESET}  ${exercise.title}`);
  const commands = [
    'lab check [exercise]      check your work',
    'lab hint <exercise>       a nudge',
    ...(lab.traces?.length ? [`lab trace <what> [seconds] the server traces your sandbox for you: ${lab.traces.join(', ')}`] : []),
    'lab set <path> <value>    ask the server to set a knob only the host may turn (lab set: which ones)',
    'lab explain <prog.c|.o>  load a BPF program and explain what the verifier says about it',
  ];
  return { text: `Exercises of lab ${lab.id} (${lab.title}):\n${lines.join('\n')}\n\n${commands.join('\n')}\n`, code: 0 };
}

async function checkOrHint(context: LabCommandContext, verb: 'check' | 'hint', exerciseId: string | undefined): Promise<Answer> {
  const exercises = context.lab.exercises;
  const chosen = exerciseId ? exercises.filter((exercise) => exercise.id === exerciseId) : exercises;
  if (chosen.length === 0) return { text: `lab: no exercise "${exerciseId}" in this lab; try: ${exercises.map((e) => e.id).join(', ')}\n`, code: 2 };
  if (verb === 'hint') {
    if (!exerciseId) return { text: `lab: which exercise? lab hint <${exercises.map((e) => e.id).join('|')}>\n`, code: 2 };
    return { text: `${chosen[0].hint}\n`, code: 0 };
  }
  const out: string[] = [];
  let allPassed = true;
  for (const exercise of chosen) {
    const verdict = await context.check(exercise);
    allPassed &&= verdict.passed;
    out.push(`${BOLD}${exercise.title}${RESET} ${DIM}(${exercise.id})${RESET}: ${verdict.passed ? `${GREEN}passed${RESET}` : `${RED}not yet${RESET}`}`);
    for (const result of verdict.results) {
      out.push(result.passed ? `  ${GREEN}✓${RESET} ${result.name}` : `  ${RED}✗${RESET} ${result.name}\n      ${result.message}`);
    }
  }
  return { text: `${out.join('\n')}\n`, code: allPassed ? 0 : 1 };
}

async function trace(context: LabCommandContext, [name, seconds]: string[], write: (line: string) => void, ended: AbortSignal): Promise<Answer> {
  try {
    await context.tracer.run(context.engine, context.sandbox, traceRequest(context.lab, name, seconds), write, ended);
    return { text: '', code: 0 };
  } catch (error) {
    if (error instanceof TraceRequestError) return { text: `lab trace: ${error.message}\n`, code: 2 };
    throw error;
  }
}

async function setKnob(context: LabCommandContext, namespace: string, [pathArgument, value]: string[]): Promise<Answer> {
  if (namespace === '?') {
    return { text: 'lab set: this shell is in a network namespace without a name; run lab set in the sandbox\'s own namespace or in one made with ip netns add (its tab, or ip netns exec <name> lab set …).\n', code: 2 };
  }
  try {
    const { device, attribute } = parseKnobRequest(pathArgument, value);
    await context.engine.writeDeviceAttribute(context.sandbox.id, namespace, `${device}/${attribute}`, value);
    const where = namespace ? `namespace ${namespace}` : 'the sandbox\'s own namespace';
    return { text: `${pathArgument} = ${value} (set by the server, in ${where})\n`, code: 0 };
  } catch (error) {
    if (error instanceof KnobError) return { text: `lab set: ${error.message}\n`, code: 2 };
    return { text: `lab set: ${pathArgument}: ${error instanceof Error ? error.message : String(error)}\n`, code: 1 };
  }
}

// Loads a program in the sandbox as the learner would and explains what the verifier said.
async function explain(context: LabCommandContext, file: string | undefined): Promise<Answer> {
  if (!file || file.length > 200) return { text: 'usage: lab explain <program.c or program.o>\n', code: 2 };
  const loaded = await context.engine.exec(context.sandbox.id, ['bash', '-c', VERIFIER_LOAD, 'load', file], { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 });
  if (loaded.exitCode === 0) return { text: `The verifier accepts every program in ${file}.\n`, code: 0 };
  if (loaded.exitCode === 3) return { text: `clang could not compile ${file}:\n${loaded.stdout}`, code: 1 };
  const explanation = explainVerifierLog(loaded.stdout);
  if (explanation) return { text: `${describeExplanation(explanation)}\n`, code: 1 };
  return { text: `Loading ${file} failed before the verifier said anything:\n${loaded.stdout.trim().split('\n').slice(-8).join('\n')}\n`, code: 1 };
}
