import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Not `new URL('./files/…', import.meta.url)` in each lab: Next's bundler turns that into a URL of a
// static asset for the page, which cannot be read from the server.
const LABS_DIR = path.dirname(fileURLToPath(import.meta.url));

// A lab's own C program that a check runs (udp-burst, flood...). The setup builds it into
// /usr/local/bin for the learner, but that copy is the learner's to replace, and a check sees only
// the lab image's programs (server/engine/native/pristine-exec.c). So the check builds its own from
// the lab's source (labs/<lab>/files/<source>) into its private TMPDIR: `build` is the shell line
// that does it, `run` the program's path.
export function checkTool(lab: string, source: string) {
  const name = path.basename(source, '.c');
  const code = readFileSync(path.join(LABS_DIR, lab, 'files', source)).toString('base64');
  return { build: `echo ${code} | base64 -d | gcc -O2 -x c -o "$TMPDIR/${name}" -`, run: `"$TMPDIR/${name}"` };
}
