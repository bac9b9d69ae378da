import type { Metadata } from 'next';
import JoinCodeForm from '../../components/Workshop/JoinCodeForm';
import styles from '../../components/Workshop/Workshop.module.css';

export const metadata: Metadata = { title: 'Join a workshop' };

export default function Join() {
  return (
    <main id="main" className={styles.page}>
      <p className="kicker">Join a workshop</p>
      <h1>Enter your workshop&apos;s code</h1>
      <JoinCodeForm />
    </main>
  );
}
