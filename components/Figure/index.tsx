import fs from 'node:fs';
import path from 'node:path';
import styles from './Figure.module.css';

// <Figure src="/figures/p1-….svg" alt="…" caption="…" />: a diagram from public/figures.
export default function Figure({ src, alt, caption }: { src: string; alt: string; caption?: string }) {
  if (!alt?.trim()) throw new Error(`<Figure src="${src}">: alt text is required (describe the diagram for a screen reader)`);
  if (!fs.existsSync(path.join(process.cwd(), 'public', src))) throw new Error(`<Figure src="${src}">: there is no such file in public/`);
  return (
    <figure className={styles.figure}>
      {/* SVG diagrams scale by themselves: next/image would add nothing but JavaScript. */}
      <img src={src} alt={alt} loading="lazy" decoding="async" />
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}
