'use client';

import { useRef, useState } from 'react';
import styles from './CodeBlock.module.css';

const COPIED_FOR_MS = 1500;

export default function CopyButton() {
  const button = useRef<HTMLButtonElement>(null);
  const [copied, setCopied] = useState(false);

  async function copy() {
    const code = button.current?.parentElement?.querySelector('pre')?.textContent ?? '';
    await navigator.clipboard.writeText(code.replace(/\n$/, ''));
    setCopied(true);
    setTimeout(() => setCopied(false), COPIED_FOR_MS);
  }

  return (
    <button ref={button} type="button" className={styles.copy} onClick={() => void copy()} aria-label={copied ? 'Copied' : 'Copy code'}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}
