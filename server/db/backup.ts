import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export class BackupError extends Error {}

// All remaining pages in one step of SQLite's backup: the copy is then one snapshot, and a busy
// server cannot make it start over (a step-by-step backup restarts whenever another process writes).
const ALL_PAGES = 0x7fffffff;

// A consistent copy of the live database, taken with SQLite's online backup API while the server
// keeps writing: in WAL mode the backup reads a snapshot and the server's writes wait for nothing.
// The copy is one self-contained file (rollback journal, no -wal beside it), written next to the
// target and moved into place only when complete and checked, so an interrupted backup never
// leaves half a file under the name asked for, and an existing file is replaced only if `overwrite`.
export async function backupDatabase(source: string, target: string, { overwrite }: { overwrite: boolean }) {
  if (!fs.existsSync(source)) throw new BackupError(`there is no database at ${source}: set WIRELAB_DB (or WIRELAB_DATA_DIR) as the server has it`);
  if (!overwrite && fs.existsSync(target)) throw new BackupError(`${target} already exists: name another file, or add --force to replace it`);
  const directory = path.dirname(path.resolve(target));
  if (!fs.existsSync(directory)) throw new BackupError(`the directory ${directory} does not exist`);
  const partial = path.join(directory, `.${path.basename(target)}.partial-${process.pid}`);
  const started = performance.now();
  try {
    const live = new Database(source, { readonly: true, fileMustExist: true });
    let pages: number;
    try {
      ({ totalPages: pages } = await live.backup(partial, { progress: () => ALL_PAGES }));
    } finally {
      live.close();
    }
    const copy = new Database(partial);
    try {
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`the copy failed SQLite's quick_check (${String(check)}); the database at ${source} may be damaged`);
    } finally {
      copy.close();
    }
    if (overwrite) {
      fs.renameSync(partial, target);
    } else {
      // link, unlike rename, fails if a file of that name appeared meanwhile.
      try {
        fs.linkSync(partial, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(`${target} already exists: name another file, or add --force to replace it`);
        throw error;
      }
    }
    return { bytes: fs.statSync(target).size, pages, ms: Math.round(performance.now() - started) };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}
