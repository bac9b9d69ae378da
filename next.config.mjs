import createMDX from '@next/mdx';

// Chapters are MDX compiled at build time. Plugins are named by package so Turbopack can load
// them: frontmatter is stripped here (content/chapters.ts reads and validates it), headings get
// the ids the table of contents links to, and shiki highlights code once, in both themes.
const withMDX = createMDX({
  options: {
    remarkPlugins: ['remark-frontmatter', 'remark-gfm'],
    rehypePlugins: ['rehype-slug', ['@shikijs/rehype', { themes: { light: 'github-light', dark: 'github-dark' }, defaultColor: false }]],
  },
});

export default withMDX({
  pageExtensions: ['ts', 'tsx', 'mdx'],
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: import.meta.dirname },
  // node-pty and better-sqlite3 are native modules the pages never import; keep them out of bundles.
  serverExternalPackages: ['better-sqlite3', 'node-pty'],
});
