// The page's colour theme: the learner's saved choice, else the system's. It is set on <html
// data-theme> by an inline script before the first paint, so a dark-mode reader never sees a
// white flash; CSS, shiki's two palettes and the terminal all follow that attribute.
export const THEME_KEY = 'wirelab-theme';

export type Theme = 'light' | 'dark';

export const themeScript = `(() => {
  try {
    const saved = localStorage.getItem('${THEME_KEY}');
    const theme = saved === 'light' || saved === 'dark' ? saved : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
    document.documentElement.dataset.theme = theme;
  } catch {
    document.documentElement.dataset.theme = 'light';
  }
})();`;
