// A terminal's WebSocket, opened the moment its lab session exists rather than once the screen
// that shows it is drawn: what arrives meanwhile (the shell's prompt) waits here for that screen.

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface EarlySocket {
  socket: WebSocket;
  opened: boolean;
  received: MessageEvent[];
}

const waiting = new Map<string, EarlySocket>();
// The size of the last screen drawn on this page: a new screen is likely the same, and a warm
// shell (server/sandboxes/warm-pool.ts) starts at 80×24. The screen sends its real size when it takes over.
let lastSize: TerminalSize = { cols: 80, rows: 24 };

export function rememberTerminalSize(size: TerminalSize) {
  lastSize = size;
}

export function openTerminalSocket(sessionId: string, host: string, size: TerminalSize = lastSize) {
  return openSocketAt(`/api/sessions/${sessionId}/tty`, host, size);
}

// A terminal socket at any path of this site: a learner's own shell, or an instructor's view of one.
export function openSocketAt(pathname: string, host: string, size: TerminalSize) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = new URLSearchParams({ host, cols: String(size.cols), rows: String(size.rows) });
  const socket = new WebSocket(`${scheme}://${location.host}${pathname}?${query}`);
  socket.binaryType = 'arraybuffer';
  return socket;
}

export function openEarly(sessionId: string, host: string) {
  const early: EarlySocket = { socket: openTerminalSocket(sessionId, host), opened: false, received: [] };
  early.socket.onopen = () => (early.opened = true);
  early.socket.onmessage = (event) => early.received.push(event);
  waiting.get(`${sessionId}/${host}`)?.socket.close();
  waiting.set(`${sessionId}/${host}`, early);
}

// The socket opened early for this tab, if it is still open or opening; the caller now owns it.
export function takeEarly(sessionId: string, host: string) {
  const early = waiting.get(`${sessionId}/${host}`);
  waiting.delete(`${sessionId}/${host}`);
  return early && early.socket.readyState <= WebSocket.OPEN ? early : undefined;
}
