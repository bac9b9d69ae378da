import fs from 'node:fs';
import path from 'node:path';
import GithubSlugger from 'github-slugger';
import matter from 'gray-matter';
import type { Root } from 'mdast';
import type { MdxJsxFlowElement } from 'mdast-util-mdx-jsx';
import { toString } from 'mdast-util-to-string';
import remarkMdx from 'remark-mdx';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import { ChapterFrontmatter } from './schema.ts';

export interface Heading {
  depth: 2 | 3;
  text: string;
  id: string;
}

export interface ExerciseRef {
  lab: string;
  id: string;
}

export interface Chapter extends ChapterFrontmatter {
  file: string;
  headings: Heading[];
  exercises: ExerciseRef[];
  quizzes: string[];
}

export class ChapterError extends Error {}

// The pages are rendered at build time from the project root, where content/ lives.
export const CONTENT_DIR = path.join(process.cwd(), 'content');

// Every chapter of the course, in part order, read from content/*.mdx. The pages, the course
// map and the tests all read chapters through here, so the frontmatter is checked in one place.
export function loadChapters(dir = CONTENT_DIR): Chapter[] {
  const files = fs.readdirSync(/*turbopackIgnore: true*/ dir).filter((name) => name.endsWith('.mdx')).sort();
  const chapters = files.map((file) => readChapter(dir, file));
  for (const [field, values] of [['part', chapters.map((c) => c.part)], ['slug', chapters.map((c) => c.slug)]] as const) {
    const seen = new Map<unknown, string>();
    for (const [index, value] of values.entries()) {
      const other = seen.get(value);
      if (other) throw new ChapterError(`content/${chapters[index].file}: ${field}: ${JSON.stringify(value)} is already used by content/${other}`);
      seen.set(value, chapters[index].file);
    }
  }
  return chapters.sort((a, b) => a.part - b.part);
}

function readChapter(dir: string, file: string): Chapter {
  const source = fs.readFileSync(path.join(dir, file), 'utf8');
  let parsed: matter.GrayMatterFile<string>;
  try {
    parsed = matter(source);
  } catch (error) {
    throw new ChapterError(`content/${file}: the frontmatter is not valid YAML: ${(error as Error).message}`);
  }
  const frontmatter = ChapterFrontmatter.safeParse(parsed.data);
  if (!frontmatter.success) {
    const problems = frontmatter.error.issues.map((issue) => `${issue.path.join('.') || '(frontmatter)'}: ${issue.message}`);
    throw new ChapterError(`content/${file}: invalid frontmatter\n  ${problems.join('\n  ')}`);
  }
  const prefix = Number.parseInt(file, 10);
  if (prefix !== frontmatter.data.part) {
    throw new ChapterError(`content/${file}: part: the frontmatter says ${frontmatter.data.part} but the file name starts with ${file.split('-')[0]}`);
  }
  let tree: Root;
  try {
    tree = unified().use(remarkParse).use(remarkMdx).parse(parsed.content);
  } catch (error) {
    throw new ChapterError(`content/${file}: ${(error as Error).message}`);
  }
  return { ...frontmatter.data, file, ...outline(tree) };
}

// What the page needs from a chapter's body: its headings, with the same ids rehype-slug gives
// the rendered ones so the table of contents links match, and the exercises and quizzes it holds.
function outline(tree: Root) {
  const slugger = new GithubSlugger();
  const headings: Heading[] = [];
  const exercises: ExerciseRef[] = [];
  const quizzes: string[] = [];
  visit(tree, (node) => {
    if (node.type === 'heading' && (node.depth === 2 || node.depth === 3)) {
      const text = toString(node);
      headings.push({ depth: node.depth, text, id: slugger.slug(text) });
    }
    if (node.type === 'mdxJsxFlowElement' && node.name === 'Exercise') exercises.push({ lab: attribute(node, 'lab'), id: attribute(node, 'id') });
    if (node.type === 'mdxJsxFlowElement' && node.name === 'Quiz') quizzes.push(attribute(node, 'id'));
  });
  return { headings, exercises, quizzes };
}

function attribute(element: MdxJsxFlowElement, name: string) {
  const found = element.attributes.find((candidate) => candidate.type === 'mdxJsxAttribute' && candidate.name === name);
  return typeof found?.value === 'string' ? found.value : '';
}
