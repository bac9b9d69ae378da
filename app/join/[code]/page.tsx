import type { Metadata } from 'next';
import JoinForm from '../../../components/Workshop/JoinForm';
import styles from '../../../components/Workshop/Workshop.module.css';

export const metadata: Metadata = { title: 'Join a workshop' };

export default async function JoinWithCode({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  return (
    <main id="main" className={styles.page}>
      <p className="kicker">Join a workshop</p>
      <JoinForm code={decodeURIComponent(code)} />
    </main>
  );
}
