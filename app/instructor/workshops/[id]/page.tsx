import type { Metadata } from 'next';
import WorkshopGrid from '../../../../components/Instructor/WorkshopGrid';
import styles from '../../../../components/Instructor/Instructor.module.css';

export const metadata: Metadata = { title: 'Workshop' };

export default async function WorkshopPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <main id="main" className={styles.page}>
      <WorkshopGrid workshopId={id} />
    </main>
  );
}
