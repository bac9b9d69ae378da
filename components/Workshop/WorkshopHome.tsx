'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import { workshopApi, type LearnersWorkshop } from './api';
import styles from './Workshop.module.css';

// /workshop: the learner's workshop: its labs, where to find them, and the link that takes this
// learner (progress and all) to another device.
export default function WorkshopHome() {
  const [mine, setMine] = useState<LearnersWorkshop | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    workshopApi.mine().then(setMine, (failure: Error) => setError(failure.message));
  }, []);

  if (error) return <p className={styles.error} role="alert">{error}</p>;
  if (!mine) return <p className={styles.muted}>Loading…</p>;
  if (!mine.workshop) {
    return (
      <p>
        You are not in a workshop. <Link href="/join">Join one with its code</Link>, or follow the course on your own from the{' '}
        <Link href="/">course map</Link>.
      </p>
    );
  }
  const resumeUrl = `${location.origin}${mine.resumePath}`;
  return (
    <>
      <h1>{mine.workshop.title}</h1>
      <p>
        You are in as <strong data-testid="display-name">{mine.displayName}</strong>.
      </p>
      <h2>Labs</h2>
      <ol>
        {mine.workshop.labs.map((lab) => (
          <li key={lab.id}>
            <Link href={`/learn/${lab.chapter.slug}#lab-${lab.id}`} data-testid="workshop-lab">
              {lab.title}
            </Link>{' '}
            <span className={styles.muted}>
              in Part {lab.chapter.part}, {lab.chapter.title}
            </span>
          </li>
        ))}
      </ol>
      <h2>Moving to another device</h2>
      <p>Open this link on the other device to carry on there as {mine.displayName}, with your progress. Keep it to yourself: it is you.</p>
      <p className={styles.resume} data-testid="resume-link">{resumeUrl}</p>
      <button type="button" className={styles.primary} onClick={() => void navigator.clipboard?.writeText(resumeUrl)}>
        Copy the link
      </button>
    </>
  );
}
