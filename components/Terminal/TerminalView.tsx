'use client';

import type { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { announceTerminalActivity } from './activity';
import { openSocketAt, openTerminalSocket, rememberTerminalSize, takeEarly } from './early-socket';
import { currentTheme, takeScreen } from './screen';
import styles from './Terminal.module.css';

// ended: the sandbox itself ended (the server said why on the screen).
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'exited' | 'ended' | 'lost';

export interface TerminalViewProps {
  labId: string;
  sessionId: string;
  host: string;
  active: boolean;
  onStateChange?: (state: ConnectionState) => void;
  // An instructor's read-only view: the WebSocket path to watch the shell at. Nothing typed is
  // sent, and the screen takes the learner's size instead of fitting its box.
  watchPath?: string;
}

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000, 5000];
const GIVE_UP_AFTER_ATTEMPTS = 12;

// One host's shell: an xterm.js screen bridged to /api/sessions/<id>/tty. It reconnects by
// itself after a dropped connection; the server replays recent output, so the screen is rebuilt.
export { prepareSpareScreen } from './screen';

export default function TerminalView({ labId, sessionId, host, active, onStateChange, watchPath }: TerminalViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const stateRef = useRef(onStateChange);
  stateRef.current = onStateChange;

  useEffect(() => {
    const { term, fit, element } = takeScreen(container.current!);
    if (watchPath) {
      term.options.disableStdin = true;
      term.options.cursorBlink = false;
    }
    fitRef.current = fit;
    if (!watchPath) rememberTerminalSize({ cols: term.cols, rows: term.rows });

    // Ctrl+Shift+C copies the selection, as in desktop terminals (Ctrl+C stays an interrupt).
    term.attachCustomKeyEventHandler((event) => {
      if (event.type === 'keydown' && event.ctrlKey && event.shiftKey && event.code === 'KeyC') {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      return true;
    });

    let socket: WebSocket | null = null;
    let attempts = 0;
    let closedByUs = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let shellExited = false;
    let sandboxEnded = false;
    // Set when the server turned this connection away (too many terminals open): retry after it.
    let refusedForMs = 0;

    const send = (message: object) => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };

    const listen = (ws: WebSocket) => {
      socket = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        attempts = 0;
        shellExited = false;
        // The server replays recent output on every attach: start from a clean screen.
        term.reset();
        // The socket may have been opened before this screen knew its size (a watcher takes the learner's).
        if (!watchPath) send({ type: 'resize', cols: term.cols, rows: term.rows });
        stateRef.current?.('open');
      };
      ws.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) {
          term.write(new Uint8Array(event.data));
          return;
        }
        const message = JSON.parse(event.data as string) as {
          type: string;
          code?: number;
          message?: string;
          sandboxGone?: boolean;
          cols?: number;
          rows?: number;
          retryAfterSeconds?: number;
        };
        if (message.type === 'size') {
          term.resize(message.cols!, message.rows!);
        } else if (message.type === 'exit') {
          shellExited = true;
          term.write(`\r\n\x1b[33m[${message.message}]\x1b[0m\r\n`);
          stateRef.current?.(message.sandboxGone ? 'ended' : 'exited');
        } else if (message.type === 'notice') {
          term.write(`\r\n\x1b[33m[${message.message}]\x1b[0m\r\n`);
        } else if (message.type === 'ended') {
          sandboxEnded = true;
          term.write(`\r\n\x1b[33m[${message.message}]\x1b[0m\r\n`);
          stateRef.current?.('ended');
        } else if (message.type === 'refused') {
          refusedForMs = (message.retryAfterSeconds ?? 10) * 1000;
          term.write(`\r\n\x1b[33m${message.message}\x1b[0m\r\n`);
        } else if (message.type === 'error') {
          term.write(`\r\n\x1b[31m${message.message}\x1b[0m\r\n`);
        }
      };
      ws.onclose = () => {
        if (closedByUs || shellExited || sandboxEnded) return;
        if (refusedForMs) {
          stateRef.current?.('reconnecting');
          retryTimer = setTimeout(connect, refusedForMs);
          refusedForMs = 0;
          return;
        }
        attempts += opened ? 0 : 1;
        if (attempts >= GIVE_UP_AFTER_ATTEMPTS) {
          stateRef.current?.('lost');
          return;
        }
        stateRef.current?.('reconnecting');
        retryTimer = setTimeout(connect, RECONNECT_DELAYS_MS[Math.min(attempts, RECONNECT_DELAYS_MS.length - 1)]);
      };
    };
    const size = () => ({ cols: term.cols, rows: term.rows });
    const connect = () => listen(watchPath ? openSocketAt(watchPath, host, size()) : openTerminalSocket(sessionId, host, size()));

    term.onData((data) => {
      if (watchPath) return;
      if (shellExited) {
        if (data.includes('\r')) {
          socket?.close();
          connect();
        }
        return;
      }
      send({ type: 'input', data });
      if (data.includes('\r')) announceTerminalActivity(labId);
    });
    term.onResize(({ cols, rows }) => {
      if (watchPath) return;
      rememberTerminalSize({ cols, rows });
      send({ type: 'resize', cols, rows });
    });

    const resizeObserver = new ResizeObserver(() => {
      if (container.current?.offsetParent && !watchPath) fit.fit();
    });
    resizeObserver.observe(container.current!);
    const themeObserver = new MutationObserver(() => {
      term.options.theme = currentTheme();
    });
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });

    stateRef.current?.('connecting');
    // The lab opened this tab's socket as soon as its session existed: take it over, with what it
    // already received, and draw that at once.
    const early = watchPath ? undefined : takeEarly(sessionId, host);
    if (early) {
      listen(early.socket);
      if (early.opened) early.socket.onopen?.(new Event('open'));
      for (const message of early.received) early.socket.onmessage?.(message);
    } else {
      connect();
    }
    return () => {
      closedByUs = true;
      clearTimeout(retryTimer);
      resizeObserver.disconnect();
      themeObserver.disconnect();
      socket?.close();
      term.dispose();
      element.remove();
    };
  }, [labId, sessionId, host, watchPath]);

  useEffect(() => {
    if (active && !watchPath) fitRef.current?.fit();
  }, [active, watchPath]);

  return <div ref={container} className={styles.screen} data-testid={`terminal-${host}`} hidden={!active} />;
}
