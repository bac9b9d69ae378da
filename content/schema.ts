import { z } from 'zod';

// What every chapter's frontmatter must say. A typo here fails the build, naming the file and
// the field, instead of showing a learner a half-empty page.
export const ChapterFrontmatter = z.strictObject({
  title: z.string().min(1),
  part: z.number().int().min(0).max(99),
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'use lower-case words joined by hyphens'),
  summary: z.string().min(1).max(200),
  duration: z.number().int().positive().describe('estimated minutes'),
  status: z.enum(['ready', 'in-preparation']),
});

export type ChapterFrontmatter = z.infer<typeof ChapterFrontmatter>;
