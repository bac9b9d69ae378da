import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Identity } from './identity.ts';
import { Refusal } from '../limits/refusal.ts';
import type { TerminalConnections } from '../limits/terminal-connections.ts';
import { InputPacer } from '../limits/terminal-input.ts';
import { terminalConnections, websocketBytes } from '../ops/metrics.ts';
import { ROOT_HOST, sessionLog, type Sessions } from '../sandboxes/sessions.ts';
import { sendControl } from '../sandboxes/terminal.ts';
import { isSameOrigin } from './origin.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';

// Keystrokes and pastes only: a single message above this is not typing.
const MAX_MESSAGE_BYTES = 64 * 1024;
const PATH = /^\/api\/sessions\/(?<session>[0-9a-f-]{36})\/tty$/;
// A browser cannot read the HTTP status of a refused upgrade, so a refusal is sent on the open
// socket, then it closes with this code (4000–4999 are the application's; 4429 mirrors HTTP's 429).
const REFUSED_CLOSE_CODE = 4429;

export interface TerminalSocketLimits {
  connections: TerminalConnections;
  inputBytesPerSecond: number;
}

const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('input'), data: z.string().max(MAX_MESSAGE_BYTES) }),
  z.strictObject({ type: z.literal('resize'), cols: z.number().int().min(2).max(500), rows: z.number().int().min(2).max(200) }),
]);

const Size = z.object({ cols: z.coerce.number().int().min(2).max(500).default(80), rows: z.coerce.number().int().min(2).max(200).default(24) });

// The terminal of a lab host over a WebSocket on the site's own port:
//   /api/sessions/<session>/tty?host=<host>&cols=<n>&rows=<n>
// Binary frames carry the shell's output; text frames carry JSON: input and resize from the
// browser, exit, error and refusal notices from the server.
export function terminalSockets(sessions: Sessions, identity: Identity, limits: TerminalSocketLimits) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES * 2 });

  return function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = url.pathname.match(PATH);
    if (!match) return false;
    const refuse = (status: number, reason: string) => refuseUpgrade(socket, status, reason);
    if (!isSameOrigin(req)) return refuse(403, 'Forbidden: this terminal only opens from wirelab pages'), true;
    const learnerId = identity.existingLearnerOf(req);
    const session = learnerId && sessions.findById(match.groups!.session, learnerId);
    // The same answer whether the session does not exist or belongs to someone else: ids reveal nothing.
    if (!session) return refuse(404, 'No such lab session for you: start the lab again'), true;
    const host = url.searchParams.get('host') ?? ROOT_HOST;
    if (host !== ROOT_HOST && !(session.lab.hosts ?? []).includes(host)) return refuse(404, `Lab ${session.lab.id} has no host ${host}`), true;
    const size = Size.safeParse(Object.fromEntries(url.searchParams));
    if (!size.success) return refuse(400, 'Bad terminal size'), true;

    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      let release: () => void;
      try {
        release = limits.connections.admit(session.id, session.learnerId);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        sendControl(ws, { type: 'refused', message: error.message, retryAfterSeconds: error.retryAfterSeconds });
        return ws.close(REFUSED_CLOSE_CODE, 'too many terminals');
      }
      const terminal = sessions.terminal(session, host, size.data);
      sessions.touch(session);
      terminal.resize(size.data.cols, size.data.rows);
      terminal.attach(ws);
      terminalConnections.inc();
      sessionLog(session).debug({ host }, 'terminal connected');
      const pacer = new InputPacer(ws, limits.inputBytesPerSecond, (text) => {
        let message;
        try {
          message = ClientMessage.parse(JSON.parse(text));
        } catch {
          return sendControl(ws, { type: 'error', message: 'unreadable message: expected {"type":"input","data":…} or {"type":"resize",…}' });
        }
        if (message.type === 'input') terminal.write(message.data);
        else terminal.resize(message.cols, message.rows);
      });
      ws.on('message', (raw, isBinary) => {
        if (isBinary) return sendControl(ws, { type: 'error', message: 'send input as JSON text messages' });
        const text = raw.toString();
        websocketBytes.inc({ direction: 'in' }, Buffer.byteLength(text));
        pacer.push(text);
      });
      ws.on('close', () => {
        pacer.stop();
        release();
        terminalConnections.dec();
        sessionLog(session).debug({ host }, 'terminal disconnected');
      });
    });
    return true;
  };
}
