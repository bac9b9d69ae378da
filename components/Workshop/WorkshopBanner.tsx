'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { announceSandboxChangedElsewhere } from '../Lab/session-change';
import { workshopApi, type LearnersWorkshop, type Notice, type WorkshopMessage } from './api';
import styles from './Workshop.module.css';

interface Shown {
  key: string;
  text: string;
}

// A slim bar on every page of a learner who is in a workshop: which one, under what name, and
// what their instructor tells them as it happens (messages, a reset, being watched).
export default function WorkshopBanner() {
  const [mine, setMine] = useState<LearnersWorkshop | null>(null);
  const [notices, setNotices] = useState<Shown[]>([]);
  const [watched, setWatched] = useState(false);
  const pathname = usePathname();

  // Asked again on each page, so that joining (or resuming) shows at once.
  useEffect(() => {
    void workshopApi.mine().then(setMine, () => setMine(null));
  }, [pathname]);

  const workshopId = mine?.workshop?.id;
  useEffect(() => {
    if (!workshopId) return;
    const show = (notice: Shown) => setNotices((previous) => [...previous.filter((shown) => shown.key !== notice.key), notice]);
    const fromMessage = (message: WorkshopMessage): Shown => ({ key: `message-${message.id}`, text: `${message.learnerId ? 'Your instructor, to you' : 'Your instructor'}: ${message.text}` });
    const dismissed = new Set<string>(JSON.parse(sessionStorage.getItem('wirelab:dismissed') ?? '[]') as string[]);
    for (const message of mine?.messages ?? []) if (!dismissed.has(`message-${message.id}`)) show(fromMessage(message));

    const events = new EventSource('/api/workshop/notices');
    events.onmessage = (event) => {
      const notice = JSON.parse(event.data as string) as Notice;
      if (notice.type === 'message') show(fromMessage(notice.message));
      else if (notice.type === 'viewing') setWatched(notice.watching);
      else if (notice.type === 'sandbox') {
        show({ key: `sandbox-${notice.labId}-${Date.now()}`, text: `Your instructor ${notice.action === 'reset' ? 'reset your sandbox' : 'ended your sandbox'} of lab ${notice.labId}. Your progress is kept.` });
        announceSandboxChangedElsewhere(notice.labId);
      } else if (notice.type === 'workshop-ended') {
        show({ key: 'ended', text: 'The workshop has ended: its sandboxes are gone; your progress is kept, and the course stays open to you.' });
        events.close();
      }
    };
    return () => events.close();
    // The messages on load are read once, with the workshop.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workshopId]);

  if (!mine?.workshop) return null;
  const dismiss = (key: string) => {
    setNotices((previous) => previous.filter((notice) => notice.key !== key));
    const dismissed = new Set<string>(JSON.parse(sessionStorage.getItem('wirelab:dismissed') ?? '[]') as string[]);
    sessionStorage.setItem('wirelab:dismissed', JSON.stringify([...dismissed, key]));
  };
  return (
    <aside className={styles.banner} aria-label="Your workshop" data-testid="workshop-banner">
      <div className={styles.bannerLine}>
        <span>
          Workshop <strong>{mine.workshop.title}</strong>, as <strong>{mine.displayName}</strong>
        </span>
        <Link href="/workshop">Its labs and your resume link</Link>
      </div>
      {watched && (
        <p className={`${styles.notice} ${styles.watching}`} role="status" data-testid="instructor-viewing">
          Your instructor is viewing your terminal (read-only).
        </p>
      )}
      {notices.map((notice) => (
        <p key={notice.key} className={styles.notice} role="status" data-testid="workshop-notice">
          <span>{notice.text}</span>
          <button type="button" className={styles.dismiss} onClick={() => dismiss(notice.key)} aria-label="Dismiss">
            ✕
          </button>
        </p>
      ))}
    </aside>
  );
}
