import Link from 'next/link';
import ThemeToggle from '../ThemeToggle';
import styles from './SiteHeader.module.css';

export default function SiteHeader() {
  return (
    <header className={styles.header}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link href="/" className={styles.brand}>
        <span className={styles.logo} aria-hidden="true">
          ⇄
        </span>
        wirelab
        <span className={styles.course}>Life of a Packet</span>
      </Link>
      <ThemeToggle />
    </header>
  );
}
