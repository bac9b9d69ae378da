'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import styles from './Workshop.module.css';

// /join: the code typed by hand; /join/<code> looks it up.
export default function JoinCodeForm() {
  const router = useRouter();
  const [code, setCode] = useState('');
  return (
    <form
      className={styles.form}
      onSubmit={(event) => {
        event.preventDefault();
        router.push(`/join/${encodeURIComponent(code.trim())}`);
      }}
    >
      <label>
        The code your instructor shows, like ABCD-1234
        <br />
        <input value={code} onChange={(event) => setCode(event.target.value)} className={styles.code} placeholder="ABCD-1234" maxLength={12} autoComplete="off" spellCheck={false} required autoFocus />
      </label>
      <button type="submit" className={styles.primary}>Continue</button>
    </form>
  );
}
