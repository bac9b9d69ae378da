import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Lab } from '../../labs/define-lab.ts';
import type { Db } from '../db/database.ts';
import { InstructorStore } from '../db/instructors.ts';
import type { ProgressStore } from '../db/progress.ts';
import { WorkshopStore } from '../db/workshops.ts';
import type { Identity } from '../http/identity.ts';
import type { Sessions } from '../sandboxes/sessions.ts';
import { handleWorkshopApi, WORKSHOP_API } from './api.ts';
import { AttemptLimit } from './attempt-limit.ts';
import { courseCatalog } from './catalog.ts';
import { InstructorAuth } from './instructor-auth.ts';
import type { WorkshopLive } from './live.ts';
import { shadowSockets } from './shadow-socket.ts';
import { Workshops } from './workshops.ts';

// Ten wrong codes or passwords per client per ten minutes.
const FAILED_ATTEMPTS = { max: 10, windowMs: 10 * 60_000 };

// The instructor side of the server, as main.ts plugs it in: its API routes and its WebSocket.
export function workshopSide(options: { db: Db; identity: Identity; sessions: Sessions; live: WorkshopLive; progress: ProgressStore; labs: ReadonlyMap<string, Lab>; clientOf: (req: IncomingMessage) => string }) {
  const { db, identity, sessions, live, progress, labs, clientOf } = options;
  const workshops = new Workshops(db, new WorkshopStore(db), sessions, live, courseCatalog(labs), labs);
  const auth = new InstructorAuth(new InstructorStore(db), identity);
  const ctx = {
    workshops,
    auth,
    identity,
    progress,
    clientOf,
    joinLimit: new AttemptLimit(FAILED_ATTEMPTS.max, FAILED_ATTEMPTS.windowMs),
    signInLimit: new AttemptLimit(FAILED_ATTEMPTS.max, FAILED_ATTEMPTS.windowMs),
  };
  const handleUpgrade = shadowSockets(sessions, auth, workshops);
  return {
    // True when the request was the workshop side's to answer.
    handleApi(req: IncomingMessage, res: ServerResponse, learnerId: string) {
      if (!WORKSHOP_API.test(new URL(req.url ?? '/', 'http://localhost').pathname)) return false;
      void handleWorkshopApi(ctx, learnerId, req, res);
      return true;
    },
    handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => handleUpgrade(req, socket, head),
  };
}
