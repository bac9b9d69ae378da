// npm run backup -- <directory> [--force]
// Everything a server's data dir holds that cannot be made again, copied while the server runs:
// the database (progress, workshops), every learner's kept files, and the cookie secret that makes
// learners' cookies verify. Restoring is described in the README ("Backups").
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { backupDatabase, BackupError } from '../server/db/backup.ts';
import { backupVolumes } from '../server/engine/volumes-backup.ts';

const USAGE = 'usage: npm run backup -- <directory> [--force]   (--force replaces an existing backup there)';

const args = process.argv.slice(2);
const force = args.includes('--force');
const targets = args.filter((arg) => arg !== '--force');
if (targets.length !== 1 || targets[0].startsWith('-')) {
  console.error(USAGE);
  process.exit(2);
}
const target = path.resolve(targets[0]);
const config = loadConfig();

try {
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0 && !force) {
    throw new BackupError(`${target} already exists and is not empty: name another directory, or add --force to replace it`);
  }
  if (!fs.existsSync(path.dirname(target))) throw new BackupError(`the directory ${path.dirname(target)} does not exist`);
  // Built beside the target and moved into place whole: an interrupted backup leaves no half backup under its name.
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
  try {
    fs.mkdirSync(partial, { mode: 0o700 });
    const database = await backupDatabase(config.databasePath, path.join(partial, 'wirelab.db'), { overwrite: false });
    const files = await backupVolumes(config.volumesDir, path.join(partial, 'files'));
    const secret = path.join(config.dataDir, 'cookie-secret');
    if (fs.existsSync(secret)) fs.copyFileSync(secret, path.join(partial, 'cookie-secret'));
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(partial, target);
    console.log(
      `backed up ${config.dataDir} to ${target}: the database ${sizeOf(database.bytes)} (${database.pages} pages), ` +
        `${files.images} learners' kept files ${sizeOf(files.bytes)}, in ${database.ms + files.ms} ms`,
    );
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  console.error(`backup: ${error.message}`);
  process.exit(1);
}

function sizeOf(bytes: number) {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
