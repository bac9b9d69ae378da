import Link from 'next/link';
import Foldable from '../Foldable';
import styles from './CourseNav.module.css';

export interface NavPart {
  part: number;
  title: string;
  slug: string;
  status: 'ready' | 'in-preparation';
}

// The sidebar of all parts.
export default function CourseNav({ parts, current }: { parts: NavPart[]; current: string }) {
  return (
    <nav className={styles.nav} aria-label="Course">
      <Foldable id="course-parts" label="All parts">
        <ol className={styles.parts}>
          {parts.map((part) => (
            <li key={part.slug}>
              <Link href={`/learn/${part.slug}`} aria-current={part.slug === current ? 'page' : undefined}>
                <span className={styles.number}>{part.part}</span>
                <span>
                  {part.title}
                  {part.status === 'in-preparation' && <span className={styles.pending}>in preparation</span>}
                </span>
              </Link>
            </li>
          ))}
        </ol>
      </Foldable>
    </nav>
  );
}
