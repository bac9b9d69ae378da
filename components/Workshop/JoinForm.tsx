'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { workshopApi } from './api';
import styles from './Workshop.module.css';

type Found = { title: string; code: string; joinedAs: string | null };

// /join/<code>: which workshop the code opens, and the name to join it under.
export default function JoinForm({ code }: { code: string }) {
  const router = useRouter();
  const [found, setFound] = useState<Found | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    workshopApi.lookUp(code).then(setFound, (failure: Error) => setError(failure.message));
  }, [code]);

  const join = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await workshopApi.join(code, name);
      router.push('/workshop');
      router.refresh();
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  };

  if (!found) {
    return error ? <p className={styles.error} role="alert">{error} <a href="/join">Type the code again</a></p> : <p className={styles.muted}>Looking up {code}…</p>;
  }
  return (
    <>
      <h1>{found.title}</h1>
      {found.joinedAs ? (
        <p>
          You are in this workshop as <strong>{found.joinedAs}</strong>. <a href="/workshop">Go to its labs</a>.
        </p>
      ) : (
        <form className={styles.form} onSubmit={(event) => void join(event)}>
          <label>
            Your name, as your instructor will see it
            <br />
            <input value={name} onChange={(event) => setName(event.target.value)} maxLength={60} autoComplete="name" required autoFocus />
          </label>
          {error && <p className={styles.error} role="alert">{error}</p>}
          <button type="submit" className={styles.primary} disabled={busy}>
            {busy ? 'Joining…' : 'Join the workshop'}
          </button>
          <p className={styles.muted}>Your progress so far comes with you: nothing you did before joining is lost.</p>
        </form>
      )}
    </>
  );
}
