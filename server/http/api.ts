import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { findLab } from '../../labs/index.ts';
import type { Lab } from '../../labs/define-lab.ts';
import type { Checking } from '../grading/checking.ts';
import type { Counters } from '../mediation/counters.ts';
import type { ProgressStore } from '../db/progress.ts';
import { SandboxGoneError, type Engine } from '../engine/engine.ts';
import { missingFeatures, type KernelSupport } from '../sandboxes/kernel-features.ts';
import type { RateLimits } from '../limits/rate-limits.ts';
import { Refusal } from '../limits/refusal.ts';
import { sandboxStartFailures, sandboxStarts, sandboxStartSeconds } from '../ops/metrics.ts';
import { END_REASONS } from '../sandboxes/end-reasons.ts';
import { CapacityError, ROOT_HOST, sessionLog, type Session, type Sessions } from '../sandboxes/sessions.ts';
import { traceRequest, TraceRequestError, type Tracer } from '../mediation/tracing.ts';
import { EventStream } from './event-stream.ts';
import { HttpError, readJson } from './json.ts';
import { Download, serveRoute, type Route } from './router.ts';
import { TextStream } from './text-stream.ts';

export interface ApiContext {
  sessions: Sessions;
  checking: Checking;
  progress: ProgressStore;
  kernelSupport: KernelSupport | null;
  engine: Engine;
  tracer: Tracer;
  counters: Counters;
  limits: RateLimits;
  // Who a request comes from, for the per-client limits (server/limits/client-address.ts).
  clientOf: (req: IncomingMessage) => string;
}

type Handler = (ctx: ApiContext, learnerId: string, params: Record<string, string>, req: IncomingMessage) => Promise<[number, unknown]>;

const CheckBody = z.strictObject({ trigger: z.enum(['button', 'live']).default('button') });
const TraceBody = z.strictObject({ trace: z.string().max(32), seconds: z.number().int().optional() });
const QuizAnswerBody = z.strictObject({ question: z.number().int().min(0).max(100), choice: z.number().int().min(0).max(20), correct: z.boolean() });
// A page whose counters stream closed (the reader died, or the server restarted) asks again after this.
const COUNTERS_RETRY_MS = 2000;

const routes: Route<Handler>[] = [
  ['GET', /^\/api\/health$/, async () => [200, { ok: true }]],
  ['GET', /^\/api\/progress$/, async (ctx, learnerId) => [200, ctx.progress.summary(learnerId)]],
  ['GET', /^\/api\/labs\/(?<lab>[^/]+)$/, async (ctx, learnerId, { lab: labId }) => {
    const lab = labOrThrow(labId);
    const session = ctx.sessions.find(learnerId, lab.id);
    return [200, { ...(await labStatus(ctx, lab)), session: describeSession(session), ended: session ? null : await describeEnded(ctx, learnerId, lab) }];
  }],
  // The learner's own files of this lab (what they added or changed), to take home.
  ['GET', /^\/api\/labs\/(?<lab>[^/]+)\/files$/, async (ctx, learnerId, { lab: labId }) => {
    const lab = labOrThrow(labId);
    const archive = await ctx.sessions.exportFiles(learnerId, lab.id);
    if (!archive) throw new HttpError(404, `You have no files kept for lab "${lab.id}": start it, and what you write there is kept.`);
    return [200, new Download(archive, 'application/gzip', `wirelab-${lab.id}-files.tar.gz`)];
  }],
  // What the learner's sandbox uses of its memory, for the lab panel.
  ['GET', /^\/api\/labs\/(?<lab>[^/]+)\/memory$/, async (ctx, learnerId, { lab: labId }) => {
    const session = ctx.sessions.find(learnerId, labOrThrow(labId).id);
    if (!session) throw new HttpError(409, 'Start the lab first: you have no sandbox for this lab.');
    const memory = await ctx.engine.memory(session.sandbox.id).catch(() => null);
    if (!memory) throw new HttpError(409, 'Your sandbox has stopped: start the lab again.');
    return [200, memory];
  }],
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/session$/, async (ctx, learnerId, { lab: labId }, req) => {
    const lab = await runnableLab(ctx, labId);
    const open = () => ctx.sessions.open(learnerId, lab);
    const session = ctx.sessions.holds(learnerId, lab.id) ? await open() : await startSandbox(ctx, req, learnerId, lab, open);
    return [200, { session: describeSession(session) }];
  }],
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/session\/reset$/, async (ctx, learnerId, { lab: labId }, req) => {
    const lab = await runnableLab(ctx, labId);
    return [200, { session: describeSession(await startSandbox(ctx, req, learnerId, lab, () => ctx.sessions.reset(learnerId, lab))) }];
  }],
  ['DELETE', /^\/api\/labs\/(?<lab>[^/]+)\/session$/, async (ctx, learnerId, { lab: labId }) => {
    const session = ctx.sessions.find(learnerId, labOrThrow(labId).id);
    if (session) await ctx.sessions.end(session, END_REASONS.learner);
    return [200, { session: null }];
  }],
  // What `lab trace` does in the terminal, for the page's trace panel: the output streams as text.
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/trace$/, async (ctx, learnerId, { lab: labId }, req) => {
    const { trace, seconds } = await readJson(req, TraceBody);
    const lab = labOrThrow(labId);
    const session = ctx.sessions.find(learnerId, lab.id);
    if (!session) throw new HttpError(409, 'Start the lab first: a trace watches your sandbox, and you have none for this lab.');
    let request;
    try {
      request = traceRequest(lab, trace, seconds);
    } catch (error) {
      throw error instanceof TraceRequestError ? new HttpError(400, error.message) : error;
    }
    ctx.sessions.touch(session);
    return [200, new TextStream((write, signal) => ctx.tracer.run(ctx.engine, session.sandbox, request, write, signal))];
  }],
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/trace\/stop$/, async (ctx, learnerId, { lab: labId }) => {
    const session = ctx.sessions.find(learnerId, labOrThrow(labId).id);
    if (session) ctx.tracer.stop(session.sandbox.id);
    return [200, { stopped: true }];
  }],
  // The <Counters> panel: the rates of the counters the lab names, read in the caller's own sandbox
  // once a second, as Server-Sent Events. `?session=<id>` pins the sandbox the page is showing.
  ['GET', /^\/api\/labs\/(?<lab>[^/]+)\/counters$/, async (ctx, learnerId, { lab: labId }, req) => {
    const lab = labOrThrow(labId);
    if (!lab.counters) throw new HttpError(404, `Lab "${lab.id}" shows no counters: add \`counters\` to labs/${lab.id}/lab.ts.`);
    const session = ctx.sessions.find(learnerId, lab.id);
    const pinned = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session');
    // The same answer whether the session does not exist or is someone else's: ids reveal nothing.
    if (pinned !== null && pinned !== session?.id) throw new HttpError(404, 'No such lab session for you: start the lab again.');
    if (!session) throw new HttpError(409, 'Start the lab first: the counters are read in your sandbox, and you have none for this lab.');
    ctx.sessions.touch(session);
    return [200, new EventStream(async (send, signal) => {
      try {
        return await ctx.counters.watch(session, send, signal);
      } catch (error) {
        if (!(error instanceof SandboxGoneError)) throw error;
        await ctx.sessions.end(session, END_REASONS.crashed);
        return 'Your sandbox stopped (it may have run out of memory): start the lab again.';
      }
    }, COUNTERS_RETRY_MS)];
  }],
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/exercises\/(?<exercise>[^/]+)\/check$/, async (ctx, learnerId, params, req) => {
    const { trigger } = await readJson(req, CheckBody);
    ctx.limits.admitCheck(ctx.clientOf(req), learnerId);
    const { lab, exercise } = exerciseOrThrow(params.lab, params.exercise);
    const session = ctx.sessions.find(learnerId, lab.id);
    if (!session) throw new HttpError(409, 'Start the lab first: checks look at your sandbox, and you have none for this lab.');
    ctx.sessions.touch(session);
    try {
      return [200, await ctx.checking.check(session, exercise, trigger)];
    } catch (error) {
      if (!(error instanceof SandboxGoneError)) throw error;
      await ctx.sessions.end(session, END_REASONS.crashed);
      throw new HttpError(409, 'Your sandbox stopped (it may have run out of memory): start the lab again.');
    }
  }],
  ['POST', /^\/api\/labs\/(?<lab>[^/]+)\/exercises\/(?<exercise>[^/]+)\/(?<kind>hint|solution)$/, async (ctx, learnerId, params) => {
    const { lab, exercise } = exerciseOrThrow(params.lab, params.exercise);
    const kind = params.kind as 'hint' | 'solution';
    ctx.progress.recordReveal(learnerId, { labId: lab.id, exerciseId: exercise.id }, kind);
    return [200, { [kind]: exercise[kind] }];
  }],
  ['POST', /^\/api\/quizzes\/(?<quiz>[a-z0-9-]{1,64})\/answers$/, async (ctx, learnerId, { quiz }, req) => {
    const answer = await readJson(req, QuizAnswerBody);
    ctx.progress.recordQuizAnswer(learnerId, quiz, answer.question, answer.choice, answer.correct);
    return [200, { saved: true }];
  }],
];

export function handleApi(ctx: ApiContext, learnerId: string, req: IncomingMessage, res: ServerResponse) {
  return serveRoute(req, res, routes, (handler, params) => {
    ctx.progress.ensureLearner(learnerId);
    return handler(ctx, learnerId, params, req);
  });
}

function labOrThrow(labId: string): Lab {
  const lab = findLab(labId);
  if (!lab) throw new HttpError(404, `There is no lab called "${labId}".`);
  return lab;
}

function exerciseOrThrow(labId: string, exerciseId: string) {
  const lab = labOrThrow(labId);
  const exercise = lab.exercises.find((candidate) => candidate.id === exerciseId);
  if (!exercise) throw new HttpError(404, `Lab "${labId}" has no exercise called "${exerciseId}".`);
  return { lab, exercise };
}

async function labStatus(ctx: ApiContext, lab: Lab) {
  const missing = missingFeatures(ctx.kernelSupport, lab.requires);
  return {
    id: lab.id,
    title: lab.title,
    hosts: [ROOT_HOST, ...(lab.hosts ?? [])],
    available: missing.length === 0,
    missingFeatures: missing,
  };
}

async function runnableLab(ctx: ApiContext, labId: string) {
  const lab = labOrThrow(labId);
  const { available, missingFeatures: missing } = await labStatus(ctx, lab);
  if (!available) {
    throw new HttpError(409, `This server's kernel cannot run lab "${lab.id}": it lacks ${missing.join(', ')}.`, { missingFeatures: missing });
  }
  return lab;
}

// A new sandbox for the learner: taken from the client's allowance of starts (unless the server or
// the learner's cap refuses it anyway: that costs no allowance), then timed and counted for the
// operator. A refusal or a full server is not a failed start.
async function startSandbox(ctx: ApiContext, req: IncomingMessage, learnerId: string, lab: Lab, start: () => Promise<Session>) {
  const refusal = ctx.sessions.refusalFor(learnerId, lab.id);
  if (refusal) throw refusal;
  ctx.limits.admitSandboxStart(ctx.clientOf(req), learnerId);
  const timer = sandboxStartSeconds.startTimer({ lab: lab.id });
  try {
    const session = await start();
    const seconds = timer();
    sandboxStarts.inc({ lab: lab.id });
    sessionLog(session).info({ ms: Math.round(seconds * 1000) }, 'lab sandbox started');
    return session;
  } catch (error) {
    if (!(error instanceof Refusal || error instanceof CapacityError)) sandboxStartFailures.inc({ lab: lab.id });
    throw error;
  }
}

// How the learner's last sandbox of this lab ended: the sentence, and what the kernel held then
// that a new sandbox will not have.
async function describeEnded(ctx: ApiContext, learnerId: string, lab: Lab) {
  const ended = await ctx.sessions.lastEnded(learnerId, lab.id);
  if (!ended) return null;
  return { at: ended.endedAt, reason: ctx.sessions.sentenceFor(ended.reason), filesKept: ended.filesKept, lostState: ended.lostState ?? {} };
}

function describeSession(session: Session | undefined) {
  if (!session) return null;
  return {
    id: session.id,
    hosts: [ROOT_HOST, ...(session.lab.hosts ?? [])],
    createdAt: session.createdAt.toISOString(),
  };
}
