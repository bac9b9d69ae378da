'use client';

import { useEffect, useState } from 'react';
import type { TerminalViewProps } from './TerminalView';

type View = typeof import('./TerminalView').default;
type Idle = (callback: () => void) => void;
const whenIdle: Idle = (callback) => ('requestIdleCallback' in window ? window.requestIdleCallback(callback, { timeout: 2000 }) : setTimeout(callback, 0));
let loaded: View | undefined;
let loading: Promise<View> | undefined;

// xterm.js is not part of a chapter's first load. The lab fetches it when it comes into view or
// the page is idle (preloadTerminal), and makes a screen ready off screen, so that by the click on
// Start lab both are there and the terminal renders in the same pass as the session.
export function preloadTerminal() {
  loading ??= import('./TerminalView').then(
    (module) => {
      whenIdle(module.prepareSpareScreen);
      return (loaded = module.default);
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

export default function Terminal(props: TerminalViewProps) {
  const [View, setView] = useState<View | undefined>(() => loaded);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!View) preloadTerminal().then((view) => setView(() => view), () => setFailed(true));
  }, [View]);
  if (View) return <View {...props} />;
  return <div className="wl-terminal-loading">{failed ? 'The terminal could not be loaded: reload the page.' : 'Loading terminal…'}</div>;
}
