import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface RunningServer {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

// The real server (the production build, as `npm start` runs it) on a port of its own, with its
// own database and state dir, so tests and benchmarks never touch a learner's data.
export async function startServer(options: { port: number; dataDir?: string; stateDir?: string; env?: Record<string, string> }): Promise<RunningServer> {
  if (!fs.existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) throw new Error('the site is not built: run `npx next build` first (npm test does)');
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-data-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WIRELAB_PORT: String(options.port),
      WIRELAB_DATA_DIR: dataDir,
      WIRELAB_STATE_DIR: options.stateDir ?? `/run/wirelab-test-${options.port}`,
      // Tests count the sandboxes they make: a warm pool only where one asks for it.
      WIRELAB_WARM_POOL: '0',
      // A stopped test server leaves nothing running; a test of restarts asks for keep-running.
      WIRELAB_SANDBOXES_ON_STOP: 'stop',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000);
    const watch = () => {
      if (output.includes('wirelab: ready on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', watch);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} while starting:\n${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${options.port}`,
    process: child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      // A data dir made here is this server's alone; one passed in outlives it (a restart reuses it).
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A browser-like client of the API: keeps its cookies (the learner's, an instructor's) and sends
// the Origin a page would. `headers` go with every request (a proxy's X-Forwarded-For, say).
export class Learner {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string, private readonly headers: Record<string, string> = {}) {}

  get cookie() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const { status, body: answer } = await this.exchange<T>(method, pathname, body, headers);
    return { status, body: answer };
  }

  // The whole answer, its headers too. JSON answers are parsed; anything else (a CSV download)
  // comes back as text.
  async exchange<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(this.baseUrl + pathname, {
      method,
      headers: {
        ...this.headers,
        origin: this.baseUrl,
        ...(this.cookies.size ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    const json = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, body: (json ? await response.json() : await response.text()) as T, headers: response.headers };
  }

  // A stream of Server-Sent Events, as a page's EventSource opens it (GET, the client's cookies).
  async subscribe(pathname: string) {
    const stop = new AbortController();
    const response = await fetch(this.baseUrl + pathname, { headers: this.cookies.size ? { cookie: this.cookie } : {}, signal: stop.signal });
    if (!response.ok || !response.body) throw new Error(`GET ${pathname} answered ${response.status}: ${await response.text()}`);
    return new Subscription(response.body, stop);
  }

  terminal(sessionId: string, host = 'lab', headers: Record<string, string> = {}) {
    return this.socket(`/api/sessions/${sessionId}/tty?host=${host}&cols=100&rows=30`, headers);
  }

  socket(pathname: string, headers: Record<string, string> = {}) {
    return new WebSocket(`${this.baseUrl.replace('http', 'ws')}${pathname}`, { headers: { ...this.headers, origin: this.baseUrl, cookie: this.cookie, ...headers } });
  }
}

export interface ServerEvent {
  event: string;
  data: any;
}

// The events of one text/event-stream response, kept as they arrive.
export class Subscription {
  readonly received: ServerEvent[] = [];
  // Resolves when the stream ends: the server closed it, or close() did.
  readonly closed: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(body: ReadableStream<Uint8Array>, private readonly stop: AbortController) {
    this.closed = this.read(body);
  }

  // The first event, among those received and those to come, that matches; rejects after a timeout.
  until(matches: (event: ServerEvent) => boolean, timeoutMs = 15_000): Promise<ServerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.find(matches);
        if (!found) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching event within ${timeoutMs} ms; received ${JSON.stringify(this.received.slice(-3))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  close() {
    this.stop.abort();
    return this.closed;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const fields = Object.fromEntries(text.slice(0, end).split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
          text = text.slice(end + 2);
          if (fields.data !== undefined) this.received.push({ event: fields.event ?? 'message', data: JSON.parse(fields.data) });
        }
        for (const waiter of [...this.waiters]) waiter();
      }
    } catch {
      // Aborted by close(), or the connection dropped: either way the stream is over.
    }
  }
}

// Terminal output as a reader sees it: colours and cursor controls removed.
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g, '');

// Resolves once the terminal's output (replay included), read as plain text, matches; rejects after a timeout.
export function waitForOutput(ws: WebSocket, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`terminal output never matched ${pattern}; saw: ${JSON.stringify(seen.slice(-500))}`));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) return;
      seen += plain(data.toString());
      if (pattern.test(seen)) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(seen);
      }
    };
    ws.on('message', onMessage);
  });
}

export const typeInto = (ws: WebSocket, text: string) => ws.send(JSON.stringify({ type: 'input', data: text }));
