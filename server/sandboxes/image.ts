import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { log } from '../ops/log.ts';

const run = promisify(execFile);
const BUILD_SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'labs', 'image', 'build.sh');

// The lab image for the current recipe, built now if the cache has none (the first start on a
// machine shows mmdebstrap's progress rather than hanging silently).
export async function labImage(): Promise<string> {
  const { stdout } = await run('bash', [BUILD_SCRIPT, '--path']);
  const image = stdout.trim();
  if (fs.existsSync(path.join(image, '.complete'))) return image;
  log.info('the lab image for this recipe is not built yet; building it now');
  await new Promise<void>((resolve, reject) => {
    const build = execFile('bash', [BUILD_SCRIPT], (error) => (error ? reject(new Error(`building the lab image failed: ${error.message}`)) : resolve()));
    build.stderr?.pipe(process.stderr);
  });
  return image;
}
