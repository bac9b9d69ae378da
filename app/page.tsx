import Link from 'next/link';
import { loadChapters } from '../content/chapters';
import ExerciseCount from '../components/Progress/ExerciseCount';
import styles from './course-map.module.css';

// The course map: every part, what it teaches, how long it takes, how far the learner got.
export default function CourseMap() {
  const chapters = loadChapters();
  const hours = Math.round(chapters.reduce((sum, chapter) => sum + chapter.duration, 0) / 30) / 2;
  return (
    <main id="main" className={styles.main}>
      <section className={styles.hero}>
        <p className="kicker">A hands-on course in six parts · about {hours} hours</p>
        <h1>Life of a Packet</h1>
        <p className={styles.lead}>
          Follow one packet from the network card through interrupts, NAPI and the socket layer to a program in userspace, then
          make it fast with RSS, XDP and eBPF, and finish with an encrypted link between two networks. Every chapter comes with a
          real Linux sandbox and a root shell in your browser.
        </p>
        <Link className={styles.start} href={`/learn/${chapters[0].slug}`}>
          Start with Part {chapters[0].part}
        </Link>
      </section>
      <ol className={styles.parts} aria-label="Parts of the course">
        {chapters.map((chapter) => (
          <li key={chapter.slug} className={styles.part} data-testid="course-part">
            <p className="kicker">Part {chapter.part}</p>
            <h2>
              <Link href={`/learn/${chapter.slug}`}>{chapter.title}</Link>
            </h2>
            <p className={styles.summary}>{chapter.summary}</p>
            <p className={styles.meta}>
              <span>about {chapter.duration} min</span>
              {chapter.status === 'in-preparation' && <span className={styles.pending}>in preparation</span>}
            </p>
            <ExerciseCount exercises={chapter.exercises.map((ref) => `${ref.lab}/${ref.id}`)} />
          </li>
        ))}
      </ol>
    </main>
  );
}
