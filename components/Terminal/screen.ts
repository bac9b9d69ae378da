import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal as XTerm, type ITheme } from '@xterm/xterm';

// An xterm.js screen, in an element of its own that can move from one parent to another.
export interface Screen {
  term: XTerm;
  fit: FitAddon;
  element: HTMLDivElement;
}

const LIGHT: ITheme = { background: '#fbfcfd', foreground: '#1f2328', cursor: '#1f2328', selectionBackground: '#b6d6fd' };
const DARK: ITheme = { background: '#0d1117', foreground: '#e6edf3', cursor: '#e6edf3', selectionBackground: '#264f78' };

export function currentTheme() {
  const theme = document.documentElement.dataset.theme;
  const dark = theme === 'dark' || (theme !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  return dark ? DARK : LIGHT;
}

function makeScreen(parent: HTMLElement): Screen {
  const element = document.createElement('div');
  element.style.height = '100%';
  parent.appendChild(element);
  const term = new XTerm({
    cursorBlink: true,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: currentTheme(),
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new WebLinksAddon());
  term.open(element);
  return { term, fit, element };
}

let spare: Screen | undefined;

// Making a screen holds the page's main thread for about 40 ms (measured in chromium: xterm
// measures its font and builds its renderer), and on the click on Start lab that wait is the
// learner's. So one is made ahead, off screen, once the terminal's code has loaded, and the first
// terminal to open takes it.
export function prepareSpareScreen() {
  if (spare) return;
  const offscreen = document.createElement('div');
  offscreen.setAttribute('aria-hidden', 'true');
  Object.assign(offscreen.style, { position: 'fixed', left: '-10000px', top: '0', width: '800px', height: '352px', visibility: 'hidden' });
  document.body.appendChild(offscreen);
  spare = makeScreen(offscreen);
}

// A screen shown in `container`, sized to it: the spare one if there is one.
export function takeScreen(container: HTMLElement): Screen {
  const taken = spare;
  spare = undefined;
  if (!taken) return fitted(makeScreen(container));
  const offscreen = taken.element.parentElement;
  container.appendChild(taken.element);
  offscreen?.remove();
  taken.term.options.theme = currentTheme();
  return fitted(taken);
}

function fitted(screen: Screen) {
  screen.fit.fit();
  return screen;
}
