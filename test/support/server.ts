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

// A browser-like client of the API: keeps its learner cookie and sends the Origin a page would.
export class Learner {
  private cookie = '';

  constructor(private readonly baseUrl: string) {}

  async request<T = any>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(this.baseUrl + pathname, {
      method,
      headers: {
        origin: this.baseUrl,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    return { status: response.status, body: (await response.json()) as T };
  }

  terminal(sessionId: string, host = 'lab', headers: Record<string, string> = {}) {
    const url = `${this.baseUrl.replace('http', 'ws')}/api/sessions/${sessionId}/tty?host=${host}&cols=100&rows=30`;
    return new WebSocket(url, { headers: { origin: this.baseUrl, cookie: this.cookie, ...headers } });
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
