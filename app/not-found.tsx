import Link from 'next/link';

export default function NotFound() {
  return (
    <main id="main" style={{ maxWidth: '40rem', margin: '4rem auto', padding: '0 1rem' }}>
      <h1>Page not found</h1>
      <p>
        There is no such page in the course. <Link href="/">Back to the course map</Link>.
      </p>
    </main>
  );
}
