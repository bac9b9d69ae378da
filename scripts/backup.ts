// npm run backup -- <file> [--force]
// A consistent copy of the database the server uses (WIRELAB_DB, as the server reads it), taken
// while the server runs. Restoring is described in the README ("Backups").
import { loadConfig } from '../server/config.ts';
import { backupDatabase, BackupError } from '../server/db/backup.ts';

const USAGE = 'usage: npm run backup -- <file> [--force]   (--force replaces an existing file)';

const args = process.argv.slice(2);
const force = args.includes('--force');
const files = args.filter((arg) => arg !== '--force');
if (files.length !== 1 || files[0].startsWith('-')) {
  console.error(USAGE);
  process.exit(2);
}

const source = loadConfig().databasePath;
try {
  const { bytes, pages, ms } = await backupDatabase(source, files[0], { overwrite: force });
  console.log(`backed up ${source} to ${files[0]}: ${sizeOf(bytes)} (${pages} pages) in ${ms} ms`);
} catch (error) {
  if (!(error instanceof BackupError)) throw error;
  console.error(`backup: ${error.message}`);
  process.exit(1);
}

function sizeOf(bytes: number) {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
