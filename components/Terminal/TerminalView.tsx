'use client';

import type { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { announceTerminalActivity } from './activity';
import { openTerminalSocket, rememberTerminalSize, takeEarly } from './early-socket';
import { currentTheme, takeScreen } from './screen';
import styles from './Terminal.module.css';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'exited' | 'lost';

export interface TerminalViewProps {
  labId: string;
  sessionId: string;
  host: string;
  active: boolean;
  onStateChange?: (state: ConnectionState) => void;
}

const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000, 5000];
const GIVE_UP_AFTER_ATTEMPTS = 12;

// One host's shell: an xterm.js screen bridged to /api/sessions/<id>/tty. It reconnects by
// itself after a dropped connection; the server replays recent output, so the screen is rebuilt.
export { prepareSpareScreen } from './screen';

export default function TerminalView({ labId, sessionId, host, active, onStateChange }: TerminalViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const stateRef = useRef(onStateChange);
  stateRef.current = onStateChange;

  useEffect(() => {
    const { term, fit, element } = takeScreen(container.current!);
    fitRef.current = fit;
    rememberTerminalSize({ cols: term.cols, rows: term.rows });

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
        // The socket may have been opened before this screen knew its size.
        send({ type: 'resize', cols: term.cols, rows: term.rows });
        stateRef.current?.('open');
      };
      ws.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) {
          term.write(new Uint8Array(event.data));
          return;
        }
        const message = JSON.parse(event.data as string) as { type: string; code?: number; message?: string };
        if (message.type === 'exit') {
          shellExited = true;
          term.write(`\r\n\x1b[2m[the shell exited with status ${message.code}: press Enter for a new one]\x1b[0m\r\n`);
          stateRef.current?.('exited');
        } else if (message.type === 'error') {
          term.write(`\r\n\x1b[31m${message.message}\x1b[0m\r\n`);
        }
      };
      ws.onclose = () => {
        if (closedByUs || shellExited) return;
        attempts += opened ? 0 : 1;
        if (attempts >= GIVE_UP_AFTER_ATTEMPTS) {
          stateRef.current?.('lost');
          return;
        }
        stateRef.current?.('reconnecting');
        retryTimer = setTimeout(connect, RECONNECT_DELAYS_MS[Math.min(attempts, RECONNECT_DELAYS_MS.length - 1)]);
      };
    };
    const connect = () => listen(openTerminalSocket(sessionId, host, { cols: term.cols, rows: term.rows }));

    term.onData((data) => {
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
      rememberTerminalSize({ cols, rows });
      send({ type: 'resize', cols, rows });
    });

    const resizeObserver = new ResizeObserver(() => {
      if (container.current?.offsetParent) fit.fit();
    });
    resizeObserver.observe(container.current!);
    const themeObserver = new MutationObserver(() => {
      term.options.theme = currentTheme();
    });
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });

    stateRef.current?.('connecting');
    // The lab opened this tab's socket as soon as its session existed: take it over, with what it
    // already received, and draw that at once.
    const early = takeEarly(sessionId, host);
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
  }, [labId, sessionId, host]);

  useEffect(() => {
    if (active) fitRef.current?.fit();
  }, [active]);

  return <div ref={container} className={styles.screen} data-testid={`terminal-${host}`} hidden={!active} />;
}
