'use client';

import { useEffect, useState, type FormEvent } from 'react';
import { instructorApi, type CatalogLab, type WorkshopSummary } from './api';
import styles from './Instructor.module.css';

// The labs come grouped by the part of the course they are in; times are optional and local.
export default function CreateWorkshop({ onCreated }: { onCreated: (workshop: WorkshopSummary) => void }) {
  const [catalog, setCatalog] = useState<CatalogLab[]>([]);
  const [title, setTitle] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void instructorApi.catalog().then(({ labs }) => setCatalog(labs));
  }, []);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const toIso = (local: string) => (local ? new Date(local).toISOString() : null);
      const { workshop } = await instructorApi.create({ title, labs: chosen, startsAt: toIso(startsAt), endsAt: toIso(endsAt) });
      onCreated(workshop);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const parts = [...new Set(catalog.map((lab) => lab.chapter.part))];
  const toggle = (labIds: string[], on: boolean) => setChosen((previous) => (on ? [...new Set([...previous, ...labIds])] : previous.filter((id) => !labIds.includes(id))));

  return (
    <form className={styles.form} onSubmit={(event) => void create(event)} aria-label="New workshop">
      <h2>New workshop</h2>
      <label>
        Title
        <input value={title} onChange={(event) => setTitle(event.target.value)} maxLength={100} required />
      </label>
      <fieldset className={styles.labs}>
        <legend>Labs it covers</legend>
        {parts.map((part) => {
          const labs = catalog.filter((lab) => lab.chapter.part === part);
          return (
            <div key={part}>
              <label className={styles.part}>
                <input type="checkbox" checked={labs.every((lab) => chosen.includes(lab.id))} onChange={(event) => toggle(labs.map((lab) => lab.id), event.target.checked)} />
                Part {part}: {labs[0].chapter.title}
              </label>
              {labs.map((lab) => (
                <label key={lab.id} className={styles.lab}>
                  <input type="checkbox" name="lab" value={lab.id} checked={chosen.includes(lab.id)} onChange={(event) => toggle([lab.id], event.target.checked)} />
                  {lab.title} <span className={styles.muted}>({lab.id})</span>
                </label>
              ))}
            </div>
          );
        })}
      </fieldset>
      <div className={styles.times}>
        <label>
          Starts (optional)
          <input type="datetime-local" value={startsAt} onChange={(event) => setStartsAt(event.target.value)} />
        </label>
        <label>
          Ends (optional: no one joins after)
          <input type="datetime-local" value={endsAt} onChange={(event) => setEndsAt(event.target.value)} />
        </label>
      </div>
      {error && <p className={styles.error} role="alert">{error}</p>}
      <button type="submit" className={styles.primary}>Create the workshop</button>
    </form>
  );
}
