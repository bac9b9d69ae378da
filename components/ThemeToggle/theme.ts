// The page's colour theme: the learner's saved choice, else the system's. It is set on <html
// data-theme> by an inline script before the first paint, so a dark-mode reader never sees a
// white flash; CSS, shiki's two palettes and the terminal all follow that attribute. The same
// script follows the system's theme as it changes, until the learner picks one: listening from
// here rather than after hydration, a change in the page's first moments is not missed.
export const THEME_KEY = 'wirelab-theme';

export type Theme = 'light' | 'dark';

export const themeScript = `(() => {
  const root = document.documentElement;
  try {
    const system = matchMedia('(prefers-color-scheme: dark)');
    const saved = () => localStorage.getItem('${THEME_KEY}');
    const chosen = saved();
    root.dataset.theme = chosen === 'light' || chosen === 'dark' ? chosen : system.matches ? 'dark' : 'light';
    system.addEventListener('change', (event) => {
      if (!saved()) root.dataset.theme = event.matches ? 'dark' : 'light';
    });
  } catch {
    root.dataset.theme = 'light';
  }
})();`;
