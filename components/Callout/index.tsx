import type { ReactNode } from 'react';
import styles from './Callout.module.css';

const LABELS = { note: 'Note', warning: 'Warning', 'deep-dive': 'Deep dive' } as const;
type Kind = keyof typeof LABELS;

// <Callout kind="note|warning|deep-dive" title="…">: an aside the reader may skip.
export default function Callout({ kind = 'note', title, children }: { kind?: Kind; title?: string; children: ReactNode }) {
  if (!(kind in LABELS)) throw new Error(`<Callout kind="${kind}">: kind must be one of ${Object.keys(LABELS).join(', ')}`);
  return (
    <aside className={`${styles.callout} ${styles[kind]}`} aria-label={title ?? LABELS[kind]}>
      <p className={styles.label}>
        <span className={styles.kind}>{LABELS[kind]}</span>
        {title && <span className={styles.title}>{title}</span>}
      </p>
      <div className={styles.body}>{children}</div>
    </aside>
  );
}
