'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { instructorApi, type WorkshopSummary } from './api';
import CreateWorkshop from './CreateWorkshop';
import styles from './Instructor.module.css';
import { useInstructor } from './useInstructor';

// /instructor: the instructor's workshops (every workshop, for an admin) and a new one.
export default function InstructorHome() {
  const router = useRouter();
  const instructor = useInstructor();
  const [workshops, setWorkshops] = useState<WorkshopSummary[] | null>(null);
  useEffect(() => {
    if (instructor) void instructorApi.workshops().then(({ workshops: list }) => setWorkshops(list));
  }, [instructor]);

  if (!instructor) return <p className={styles.muted}>Checking who you are…</p>;
  const signOut = async () => {
    await instructorApi.signOut();
    router.replace('/instructor/login');
  };
  return (
    <>
      <header className={styles.pageHeader}>
        <h1>Workshops</h1>
        <span className={styles.muted}>
          Signed in as {instructor.name}
          {instructor.isAdmin && ' (admin)'}
        </span>
        <button type="button" className={styles.secondary} onClick={() => void signOut()}>Sign out</button>
      </header>
      {workshops && workshops.length === 0 && <p className={styles.muted}>No workshops yet: create one below.</p>}
      {workshops && workshops.length > 0 && (
        <ul className={styles.workshopList}>
          {workshops.map((workshop) => (
            <li key={workshop.id}>
              <Link href={`/instructor/workshops/${workshop.id}`}>{workshop.title}</Link>{' '}
              <span className={styles.muted}>
                {workshop.joinCode} · {workshop.learners} learner{workshop.learners === 1 ? '' : 's'} · {workshop.labs.length} lab{workshop.labs.length === 1 ? '' : 's'}
                {workshop.endedAt ? ` · ended ${new Date(workshop.endedAt).toLocaleString()}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      <CreateWorkshop onCreated={(workshop) => router.push(`/instructor/workshops/${workshop.id}`)} />
    </>
  );
}
