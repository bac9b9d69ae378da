'use client';

import { useState, type ReactNode } from 'react';
import styles from './Foldable.module.css';

// Content that is always shown on a wide screen and folds behind a button on a phone, so the
// chapter comes first on a small screen. Following a link inside folds it again.
export default function Foldable({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className={styles.toggle} aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {label}
      </button>
      <div
        id={id}
        className={`${styles.content} ${open ? styles.open : ''}`}
        onClick={(event) => {
          if ((event.target as HTMLElement).closest('a')) setOpen(false);
        }}
      >
        {children}
      </div>
    </>
  );
}
