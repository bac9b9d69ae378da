import type { ComponentProps } from 'react';
import CopyButton from './CopyButton';
import styles from './CodeBlock.module.css';

// A highlighted code block (shiki has already coloured it at build time) with a copy button.
export default function CodeBlock(props: ComponentProps<'pre'>) {
  return (
    <div className={styles.block}>
      <pre {...props} />
      <CopyButton />
    </div>
  );
}
