import type { Metadata } from 'next';
import Resume from '../../components/Workshop/Resume';
import styles from '../../components/Workshop/Workshop.module.css';

export const metadata: Metadata = { title: 'Resume on this device' };

export default function ResumePage() {
  return (
    <main id="main" className={styles.page}>
      <p className="kicker">Your workshop</p>
      <Resume />
    </main>
  );
}
