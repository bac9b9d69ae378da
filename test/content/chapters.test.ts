import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { compile, run } from '@mdx-js/mdx';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import * as jsxRuntime from 'react/jsx-runtime';
import rehypeSlug from 'rehype-slug';
import { loadChapters } from '../../content/chapters.ts';
import { findExercise } from '../../labs/index.ts';

const CONTENT = path.resolve(import.meta.dirname, '..', '..', 'content');
const PUBLIC = path.resolve(import.meta.dirname, '..', '..', 'public');

const frontmatter = (fields: Record<string, string | number>) =>
  `---\n${Object.entries(fields).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join('\n')}\n---\n`;
const valid = { title: 'Orientation', part: 0, slug: 'orientation', summary: 'Why.', duration: 20, status: 'ready' };

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-content-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function contentDir(files: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(scratch, 'chapters-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('the course', () => {
  const chapters = loadChapters(CONTENT);

  test('has six parts, 0 to 5, each with a slug of its own', () => {
    assert.deepEqual(chapters.map((chapter) => chapter.part), [0, 1, 2, 3, 4, 5]);
    assert.equal(new Set(chapters.map((chapter) => chapter.slug)).size, 6);
  });

  test('every chapter has sections for its table of contents', () => {
    for (const chapter of chapters) assert.ok(chapter.headings.filter((h) => h.depth === 2).length >= 3, `${chapter.file} has fewer than 3 sections`);
  });

  test('every <Exercise> names an exercise of a registered lab', () => {
    for (const chapter of chapters) {
      for (const ref of chapter.exercises) assert.ok(findExercise(ref.lab, ref.id), `${chapter.file}: <Exercise lab="${ref.lab}" id="${ref.id}"> does not exist`);
    }
  });

  test('every figure a chapter shows exists in public/', () => {
    for (const chapter of chapters) {
      const source = fs.readFileSync(path.join(CONTENT, chapter.file), 'utf8');
      for (const [, src] of source.matchAll(/<Figure[^>]*\bsrc="([^"]+)"/g)) assert.ok(fs.existsSync(path.join(PUBLIC, src)), `${chapter.file}: ${src} is missing`);
    }
  });

  test('quiz ids are unique across the course', () => {
    const ids = chapters.flatMap((chapter) => chapter.quizzes);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('a chapter file with a mistake', () => {
  test('a missing field fails, naming the file and the field', () => {
    const { duration: _, ...withoutDuration } = valid;
    const dir = contentDir({ '00-orientation.mdx': frontmatter(withoutDuration) + '## Hello\n' });
    assert.throws(() => loadChapters(dir), /content\/00-orientation\.mdx: invalid frontmatter\n {2}duration: /);
  });

  test('a mistyped field or value fails, naming it', () => {
    const typo = contentDir({ '00-orientation.mdx': frontmatter({ ...valid, titel: 'x' }) });
    assert.throws(() => loadChapters(typo), /00-orientation\.mdx: invalid frontmatter\n.*titel/s);
    const status = contentDir({ '00-orientation.mdx': frontmatter({ ...valid, status: 'done' }) });
    assert.throws(() => loadChapters(status), /00-orientation\.mdx: invalid frontmatter\n {2}status: /);
    const duration = contentDir({ '00-orientation.mdx': frontmatter({ ...valid, duration: 'an hour' }) });
    assert.throws(() => loadChapters(duration), /duration: /);
  });

  test('broken YAML fails with the file named', () => {
    const dir = contentDir({ '00-orientation.mdx': '---\ntitle: [unclosed\n---\n' });
    assert.throws(() => loadChapters(dir), /content\/00-orientation\.mdx: the frontmatter is not valid YAML/);
  });

  test('a part number that disagrees with the file name, or a slug used twice, fails', () => {
    const misnumbered = contentDir({ '01-orientation.mdx': frontmatter(valid) });
    assert.throws(() => loadChapters(misnumbered), /01-orientation\.mdx: part: the frontmatter says 0/);
    const twice = contentDir({ '00-a.mdx': frontmatter(valid), '01-b.mdx': frontmatter({ ...valid, part: 1 }) });
    assert.throws(() => loadChapters(twice), /01-b\.mdx: slug: "orientation" is already used by content\/00-a\.mdx/);
  });

  test('unbalanced MDX fails with the file named', () => {
    const dir = contentDir({ '00-orientation.mdx': frontmatter(valid) + '<Callout kind="note">never closed\n' });
    assert.throws(() => loadChapters(dir), /content\/00-orientation\.mdx: /);
  });
});

test('table of contents ids are the ids the rendered headings get', async () => {
  const body = '## Why `sk_buff`?\n\n### The __netif_receive_skb_core path\n\n## Why `sk_buff`?\n\n### NAPI & GRO (in *depth*)\n';
  const dir = contentDir({ '00-orientation.mdx': frontmatter(valid) + body });
  const [chapter] = loadChapters(dir);
  const compiled = await compile(body, { outputFormat: 'function-body', rehypePlugins: [rehypeSlug] });
  const { default: Content } = await run(compiled, { ...jsxRuntime, baseUrl: import.meta.url });
  const html = renderToStaticMarkup(createElement(Content));
  const rendered = [...html.matchAll(/<h[23] id="([^"]+)"/g)].map(([, id]) => id);
  assert.deepEqual(chapter.headings.map((heading) => heading.id), rendered);
  assert.equal(chapter.headings[1].text, 'The __netif_receive_skb_core path');
});
