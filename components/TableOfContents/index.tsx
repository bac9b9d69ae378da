'use client';

import { useEffect, useState } from 'react';
import type { Heading } from '../../content/chapters';
import Foldable from '../Foldable';
import styles from './TableOfContents.module.css';

// "On this page": the chapter's headings, the one being read highlighted.
export default function TableOfContents({ headings }: { headings: Heading[] }) {
  const [active, setActive] = useState<string | null>(null);

  useEffect(() => {
    const elements = headings.map((heading) => document.getElementById(heading.id)).filter((element) => element !== null);
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries.filter((entry) => entry.isIntersecting).sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top);
        if (visible[0]) setActive(visible[0].target.id);
      },
      { rootMargin: '0px 0px -70% 0px' },
    );
    elements.forEach((element) => observer.observe(element));
    return () => observer.disconnect();
  }, [headings]);

  if (headings.length === 0) return null;
  return (
    <nav className={styles.toc} aria-label="On this page">
      <p className={styles.title}>On this page</p>
      <Foldable id="chapter-contents" label="On this page">
        <ol className={styles.list}>
          {headings.map((heading) => (
            <li key={heading.id} className={heading.depth === 3 ? styles.sub : undefined}>
              <a href={`#${heading.id}`} aria-current={heading.id === active ? 'location' : undefined}>
                {heading.text}
              </a>
            </li>
          ))}
        </ol>
      </Foldable>
    </nav>
  );
}
