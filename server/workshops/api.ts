import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Instructor } from '../db/instructors.ts';
import type { ProgressStore } from '../db/progress.ts';
import type { Identity } from '../http/identity.ts';
import { EventStream } from '../http/event-stream.ts';
import { HttpError, readJson } from '../http/json.ts';
import { Download, serveRoute, type Route } from '../http/router.ts';
import type { AttemptLimit } from './attempt-limit.ts';
import { NameError, validDisplayName } from './display-name.ts';
import { gradesCsv } from './grades.ts';
import type { InstructorAuth } from './instructor-auth.ts';
import { normalizeJoinCode } from './join-code.ts';
import { WorkshopError, type Workshops } from './workshops.ts';

export interface WorkshopApiContext {
  workshops: Workshops;
  auth: InstructorAuth;
  identity: Identity;
  progress: ProgressStore;
  // Who is asking, behind the operator's trusted proxies (server/limits/client-address.ts).
  clientOf: (req: IncomingMessage) => string;
  joinLimit: AttemptLimit;
  signInLimit: AttemptLimit;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  learnerId: string;
  params: Record<string, string>;
}

type Handler = (ctx: WorkshopApiContext, call: Call) => Promise<[number, unknown]>;
type InstructorHandler = (ctx: WorkshopApiContext, call: Call & { instructor: Instructor }) => Promise<[number, unknown]>;

const SignInBody = z.strictObject({ name: z.string().max(100), password: z.string().max(200) });
const IsoTime = z.iso.datetime({ offset: true }).nullable().default(null);
const WorkshopBody = z.strictObject({
  title: z.string().trim().min(1, 'give the workshop a title').max(100),
  labs: z.array(z.string().max(64)).min(1, 'choose at least one lab').max(50),
  startsAt: IsoTime,
  endsAt: IsoTime,
});
const JoinBody = z.strictObject({ name: z.string().max(200) });
const ResumeBody = z.strictObject({ token: z.string().max(200) });
const MessageBody = z.strictObject({ text: z.string().trim().min(1, 'write a message').max(500), learnerId: z.uuid().nullable().default(null) });
const RESUME_PURPOSE = 'resume:';
const NOTICES_RETRY_MS = 3000;

// Every instructor API answers 401 to anyone not signed in as an instructor, before looking
// anything up, so a learner learns nothing about which workshops exist.
function asInstructor(handler: InstructorHandler): Handler {
  return async (ctx, call) => {
    const instructor = ctx.auth.instructorOf(call.req);
    if (!instructor) throw new HttpError(401, 'Sign in as an instructor at /instructor/login to do this.');
    return handler(ctx, { ...call, instructor });
  };
}

const workshopOf = (ctx: WorkshopApiContext, call: Call & { instructor: Instructor }) => ctx.workshops.visibleTo(call.instructor, call.params.workshop);

function throttled(limit: AttemptLimit, client: string) {
  const wait = limit.retryAfterSeconds(client);
  if (wait > 0) throw new HttpError(429, `Too many failed attempts from your network: try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.`, { retryAfterSeconds: wait });
}

// A join code that finds a workshop open to learners; every miss counts against the client.
function joinableWorkshop(ctx: WorkshopApiContext, req: IncomingMessage, typed: string) {
  throttled(ctx.joinLimit, ctx.clientOf(req));
  const code = normalizeJoinCode(typed);
  try {
    return ctx.workshops.joinable(code ? ctx.workshops.store.byCode(code) : undefined, code ?? typed.slice(0, 20));
  } catch (error) {
    if (error instanceof WorkshopError && error.status === 404) ctx.joinLimit.fail(ctx.clientOf(req));
    throw error;
  }
}

function learnersWorkshop(ctx: WorkshopApiContext, learnerId: string) {
  const current = ctx.workshops.currentOf(learnerId);
  if (!current) return { workshop: null };
  const { workshop, displayName } = current;
  return {
    workshop: { id: workshop.id, title: workshop.title, endsAt: workshop.endsAt, labs: ctx.workshops.labsOf(workshop).map(({ id, title, chapter }) => ({ id, title, chapter })) },
    displayName,
    // In the fragment, which browsers never send to a server or a proxy's log.
    resumePath: `/resume#${ctx.identity.signed(RESUME_PURPOSE + learnerId)}`,
    messages: ctx.workshops.store.recentMessages(workshop.id, learnerId),
  };
}

const routes: Route<Handler>[] = [
  // Learners: join, their workshop, its notices, and moving to another device.
  ['GET', /^\/api\/join\/(?<code>[^/]{1,40})$/, async (ctx, { req, learnerId, params }) => {
    const workshop = joinableWorkshop(ctx, req, params.code);
    return [200, { title: workshop.title, code: workshop.joinCode, endsAt: workshop.endsAt, joinedAs: ctx.workshops.store.member(workshop.id, learnerId)?.displayName ?? null }];
  }],
  ['POST', /^\/api\/join\/(?<code>[^/]{1,40})$/, async (ctx, { req, learnerId, params }) => {
    const workshop = joinableWorkshop(ctx, req, params.code);
    const { name } = await readJson(req, JoinBody);
    let displayName;
    try {
      displayName = validDisplayName(name);
    } catch (error) {
      throw error instanceof NameError ? new HttpError(400, error.message) : error;
    }
    ctx.workshops.join(workshop, learnerId, displayName);
    return [200, learnersWorkshop(ctx, learnerId)];
  }],
  ['GET', /^\/api\/workshop$/, async (ctx, { learnerId }) => [200, learnersWorkshop(ctx, learnerId)]],
  ['GET', /^\/api\/workshop\/notices$/, async (ctx, { learnerId }) => {
    if (!ctx.workshops.currentOf(learnerId)) throw new HttpError(404, 'You are not in a workshop.');
    return [200, new EventStream((send, signal) => ctx.workshops.streamNotices(learnerId, send, signal), NOTICES_RETRY_MS)];
  }],
  ['POST', /^\/api\/resume$/, async (ctx, { req, res }) => {
    throttled(ctx.joinLimit, ctx.clientOf(req));
    const { token } = await readJson(req, ResumeBody);
    const value = ctx.identity.verified(token);
    const learnerId = value?.startsWith(RESUME_PURPOSE) ? value.slice(RESUME_PURPOSE.length) : undefined;
    if (!learnerId || !ctx.workshops.currentOf(learnerId)) {
      ctx.joinLimit.fail(ctx.clientOf(req));
      throw new HttpError(404, 'This resume link is not valid (or its workshop has ended): copy it again from your other device.');
    }
    res.setHeader('set-cookie', ctx.identity.learnerCookie(learnerId, req));
    return [200, learnersWorkshop(ctx, learnerId)];
  }],

  // Instructors: signing in and out.
  ['POST', /^\/api\/instructor\/login$/, async (ctx, { req, res }) => {
    throttled(ctx.signInLimit, ctx.clientOf(req));
    const { name, password } = await readJson(req, SignInBody);
    const signedIn = await ctx.auth.signIn(name, password, req);
    if (!signedIn) {
      ctx.signInLimit.fail(ctx.clientOf(req));
      throw new HttpError(401, 'That name and password do not match an instructor account.');
    }
    res.appendHeader('set-cookie', signedIn.cookie);
    return [200, { name: signedIn.instructor.name, isAdmin: signedIn.instructor.isAdmin }];
  }],
  ['POST', /^\/api\/instructor\/logout$/, async (ctx, { req, res }) => {
    res.appendHeader('set-cookie', ctx.auth.signOut(req));
    return [200, { signedOut: true }];
  }],
  ['GET', /^\/api\/instructor\/me$/, asInstructor(async (_ctx, { instructor }) => [200, { name: instructor.name, isAdmin: instructor.isAdmin }])],
  ['GET', /^\/api\/instructor\/catalog$/, asInstructor(async (ctx) => [200, { labs: [...ctx.workshops.catalog.values()] }])],

  // Instructors: their workshops.
  ['GET', /^\/api\/instructor\/workshops$/, asInstructor(async (ctx, { instructor }) => [200, { workshops: ctx.workshops.list(instructor) }])],
  ['POST', /^\/api\/instructor\/workshops$/, asInstructor(async (ctx, { req, instructor }) => {
    const fields = await readJson(req, WorkshopBody);
    return [200, { workshop: ctx.workshops.create(instructor, fields) }];
  })],
  ['GET', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})$/, asInstructor(async (ctx, call) => [200, ctx.workshops.grid(workshopOf(ctx, call))])],
  ['GET', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/events$/, asInstructor(async (ctx, call) => {
    const workshop = workshopOf(ctx, call);
    return [200, new EventStream((send, signal) => ctx.workshops.streamGrid(workshop, send, signal), NOTICES_RETRY_MS)];
  })],
  ['POST', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/learners\/(?<learner>[0-9a-f-]{36})\/labs\/(?<lab>[a-z0-9-]{1,64})\/(?<action>reset|end)$/, asInstructor(async (ctx, call) => {
    const workshop = workshopOf(ctx, call);
    const { learner, lab, action } = call.params;
    if (action === 'reset') await ctx.workshops.resetSandbox(workshop, learner, lab);
    else await ctx.workshops.endSandbox(workshop, learner, lab);
    return [200, { done: action }];
  })],
  ['POST', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/labs\/(?<lab>[a-z0-9-]{1,64})\/warm$/, asInstructor(async (ctx, call) => [200, await ctx.workshops.warm(workshopOf(ctx, call), call.params.lab)])],
  ['POST', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/messages$/, asInstructor(async (ctx, call) => {
    const workshop = workshopOf(ctx, call);
    const { text, learnerId } = await readJson(call.req, MessageBody);
    return [200, { message: ctx.workshops.message(workshop, learnerId, text) }];
  })],
  ['POST', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/end$/, asInstructor(async (ctx, call) => [200, { workshop: await ctx.workshops.end(workshopOf(ctx, call)) }])],
  ['GET', /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/grades\.(?<format>csv|json)$/, asInstructor(async (ctx, call) => {
    const workshop = workshopOf(ctx, call);
    const grades = ctx.workshops.grades(workshop);
    const name = `grades-${workshop.joinCode}`;
    return [200, call.params.format === 'csv'
      ? new Download(gradesCsv(grades), 'text/csv; charset=utf-8', `${name}.csv`)
      : new Download(JSON.stringify(grades, null, 2), 'application/json; charset=utf-8', `${name}.json`)];
  })],
];

export const WORKSHOP_API = /^\/api\/(join|workshop|resume|instructor)(\/|$)/;

// The workshop side of the API: /api/join, /api/workshop, /api/resume and /api/instructor/….
export function handleWorkshopApi(ctx: WorkshopApiContext, learnerId: string, req: IncomingMessage, res: ServerResponse) {
  return serveRoute(req, res, routes, (handler, params) => {
    ctx.progress.ensureLearner(learnerId);
    return handler(ctx, { req, res, learnerId, params });
  });
}
