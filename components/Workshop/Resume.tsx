'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { workshopApi } from './api';
import styles from './Workshop.module.css';

// /resume#<token>: this device becomes the learner the link belongs to.
export default function Resume() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const token = decodeURIComponent(location.hash.slice(1));
    if (!token) return setError('This resume link is incomplete: copy it again from your other device.');
    workshopApi.resume(token).then(
      () => {
        history.replaceState(null, '', '/resume');
        router.replace('/workshop');
      },
      (failure: Error) => setError(failure.message),
    );
  }, [router]);
  return error ? <p className={styles.error} role="alert">{error}</p> : <p className={styles.muted}>Moving your workshop to this device…</p>;
}
