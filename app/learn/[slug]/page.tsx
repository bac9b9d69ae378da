import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ComponentType } from 'react';
import { loadChapters } from '../../../content/chapters';
import CourseNav from '../../../components/CourseNav';
import ExerciseCount from '../../../components/Progress/ExerciseCount';
import TableOfContents from '../../../components/TableOfContents';
import styles from './chapter.module.css';

// Every chapter is rendered once, at build time; an unknown slug is a 404.
export const dynamicParams = false;

export function generateStaticParams() {
  return loadChapters().map((chapter) => ({ slug: chapter.slug }));
}

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  const chapter = loadChapters().find((candidate) => candidate.slug === slug);
  return chapter ? { title: `Part ${chapter.part}: ${chapter.title}`, description: chapter.summary } : {};
}

export default async function ChapterPage({ params }: Props) {
  const { slug } = await params;
  const chapters = loadChapters();
  const index = chapters.findIndex((candidate) => candidate.slug === slug);
  if (index === -1) notFound();
  const chapter = chapters[index];
  const { default: Content } = (await import(`../../../content/${chapter.file}`)) as { default: ComponentType };
  const previous = chapters[index - 1];
  const next = chapters[index + 1];

  return (
    <div className={styles.layout}>
      <aside className={styles.sidebar}>
        <CourseNav parts={chapters.map(({ part, title, slug, status }) => ({ part, title, slug, status }))} current={chapter.slug} />
      </aside>
      <aside className={styles.toc}>
        <TableOfContents headings={chapter.headings} />
      </aside>
      <main id="main" className={styles.main}>
        <article>
          <header className={styles.header}>
            <p className="kicker">Part {chapter.part}</p>
            <h1>{chapter.title}</h1>
            <p className={styles.summary}>{chapter.summary}</p>
            <div className={styles.meta}>
              <span>about {chapter.duration} min</span>
              <ExerciseCount exercises={chapter.exercises.map((ref) => `${ref.lab}/${ref.id}`)} />
            </div>
          </header>
          {chapter.status === 'in-preparation' && (
            <p className={styles.preparation} role="note" data-testid="in-preparation">
              <strong>In preparation.</strong> This chapter shows what it will teach, section by section; its full text comes in a
              later release.
            </p>
          )}
          <div className="prose">
            <Content />
          </div>
        </article>
        <nav className={styles.pager} aria-label="Previous and next part">
          {previous ? (
            <Link href={`/learn/${previous.slug}`} rel="prev" className={styles.previous}>
              <span>← Part {previous.part}</span>
              {previous.title}
            </Link>
          ) : (
            <span />
          )}
          {next && (
            <Link href={`/learn/${next.slug}`} rel="next" className={styles.next}>
              <span>Part {next.part} →</span>
              {next.title}
            </Link>
          )}
        </nav>
      </main>
    </div>
  );
}
