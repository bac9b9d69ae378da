import { labApi, type LabEnded } from './api';
import styles from './Lab.module.css';

// Why the learner's last sandbox of this lab ended, what was kept, and, by name, what lived in its
// kernel and is gone: a resumed sandbox runs the lab's setup again, but not what the learner built.
export default function EndedNotice({ labId, ended }: { labId: string; ended: LabEnded }) {
  const lost = Object.entries(ended.lostState);
  return (
    <div className={styles.note} data-testid="lab-ended">
      <p>{ended.reason}</p>
      {ended.filesKept && lost.length > 0 && (
        <>
          <p>What lived in the sandbox&apos;s kernel could not be kept; the lab&apos;s setup runs again, and you redo the rest:</p>
          <ul>
            {lost.map(([kind, items]) => (
              <li key={kind}>
                {kind}: <code>{items.join(', ')}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {ended.filesKept && (
        <p>
          <a href={labApi.filesUrl(labId)} download>Download my files</a> (a .tar.gz of what you added or changed)
        </p>
      )}
    </div>
  );
}
