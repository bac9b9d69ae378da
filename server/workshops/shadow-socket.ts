import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isSameOrigin } from '../http/origin.ts';
import { refuseUpgrade } from '../http/upgrade-refusal.ts';
import type { Sessions } from '../sandboxes/sessions.ts';
import type { InstructorAuth } from './instructor-auth.ts';
import type { Workshops } from './workshops.ts';

const PATH = /^\/api\/instructor\/workshops\/(?<workshop>[0-9a-f-]{36})\/learners\/(?<learner>[0-9a-f-]{36})\/labs\/(?<lab>[a-z0-9-]{1,64})\/tty$/;
// A learner may resize their terminal while being watched: the viewer's copy follows this often.
const SIZE_EVERY_MS = 1000;

// An instructor's read-only view of a learner's terminal, over a WebSocket:
//   /api/instructor/workshops/<workshop>/learners/<learner>/labs/<lab>/tty?host=<host>
// It attaches to the very shell the learner types in (the same PTY stream, its scrollback
// replayed first); nothing the viewer sends reaches it. Text frames carry {"type":"size"} so the
// viewer draws at the learner's size. The learner's page is told while anyone watches.
export function shadowSockets(sessions: Sessions, auth: InstructorAuth, workshops: Workshops) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });

  return function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = url.pathname.match(PATH);
    if (!match) return false;
    const refuse = (status: number, reason: string) => refuseUpgrade(socket, status, reason);
    if (!isSameOrigin(req)) return refuse(403, 'Forbidden: this view only opens from wirelab pages');
    const instructor = auth.instructorOf(req);
    if (!instructor) return refuse(401, 'Sign in as an instructor');
    const { workshop: workshopId, learner, lab } = match.groups!;
    let workshop;
    try {
      workshop = workshops.visibleTo(instructor, workshopId);
      workshops.member(workshop, learner);
    } catch {
      return refuse(404, 'No such learner in your workshops');
    }
    const session = workshop.labs.includes(lab) ? sessions.find(learner, lab) : undefined;
    if (!session) return refuse(404, 'The learner has no sandbox of this lab running');
    const host = url.searchParams.get('host') ?? 'lab';
    const terminal = session.terminals.get(host);
    if (!terminal || terminal.exited) return refuse(404, `The learner has no shell open on host ${host}`);

    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const stopWatching = workshops.live.startWatching(learner);
      let sent = '';
      const sendSize = () => {
        const size = JSON.stringify({ type: 'size', ...terminal.size });
        if (size !== sent && ws.readyState === ws.OPEN) ws.send((sent = size));
      };
      sendSize();
      const sizeTimer = setInterval(sendSize, SIZE_EVERY_MS);
      terminal.attach(ws);
      ws.on('close', () => {
        clearInterval(sizeTimer);
        stopWatching();
      });
    });
    return true;
  };
}
