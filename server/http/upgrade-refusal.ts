import type { Duplex } from 'node:stream';

// Answers a WebSocket upgrade with a plain HTTP refusal; the browser sees the status, the reason
// is for people reading the exchange. True, so a handler can `return refuseUpgrade(…)` as handled.
export function refuseUpgrade(socket: Duplex, status: number, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
  return true;
}
