import type { Metadata } from 'next';
import InstructorHome from '../../components/Instructor/InstructorHome';
import styles from '../../components/Instructor/Instructor.module.css';

export const metadata: Metadata = { title: 'Workshops' };

export default function Instructor() {
  return (
    <main id="main" className={styles.page}>
      <InstructorHome />
    </main>
  );
}
