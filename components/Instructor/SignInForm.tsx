'use client';

import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { instructorApi } from './api';
import styles from './Instructor.module.css';

export default function SignInForm() {
  const router = useRouter();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await instructorApi.signIn(name, password);
      router.push('/instructor');
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  };

  return (
    <form className={styles.form} onSubmit={(event) => void signIn(event)}>
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} autoComplete="username" required autoFocus />
      </label>
      <label>
        Password
        <input type="password" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="current-password" required />
      </label>
      {error && <p className={styles.error} role="alert">{error}</p>}
      <button type="submit" className={styles.primary} disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      <p className={styles.muted}>No account? The server&apos;s operator makes one with <code>npm run instructor -- add &lt;name&gt;</code>.</p>
    </form>
  );
}
