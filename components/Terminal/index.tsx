'use client';

import dynamic from 'next/dynamic';
import type { TerminalViewProps } from './TerminalView';

// xterm.js loads only when a lab starts, so it never weighs on a chapter's first load.
const TerminalView = dynamic(() => import('./TerminalView'), {
  ssr: false,
  loading: () => <div className="wl-terminal-loading">Loading terminal…</div>,
});

export default function Terminal(props: TerminalViewProps) {
  return <TerminalView {...props} />;
}
