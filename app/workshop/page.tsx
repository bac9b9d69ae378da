import type { Metadata } from 'next';
import WorkshopHome from '../../components/Workshop/WorkshopHome';
import styles from '../../components/Workshop/Workshop.module.css';

export const metadata: Metadata = { title: 'Your workshop' };

export default function Workshop() {
  return (
    <main id="main" className={styles.page}>
      <p className="kicker">Your workshop</p>
      <WorkshopHome />
    </main>
  );
}
