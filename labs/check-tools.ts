import { readFileSync } from 'node:fs';
import path from 'node:path';

// A lab's own C program that a check runs (udp-burst, flood...). The setup builds it into
// /usr/local/bin for the learner, but that copy is the learner's to replace, and a check sees only
// the lab image's programs (server/engine/native/pristine-exec.c). So the check builds its own from
// the lab's source, given as `new URL('./files/<name>.c', import.meta.url)`, into its private TMPDIR:
// `build` is the shell line that does it, `run` the program's path.
export function checkTool(source: URL) {
  const name = path.basename(source.pathname, '.c');
  const code = readFileSync(source).toString('base64');
  return { build: `echo ${code} | base64 -d | gcc -O2 -x c -o "$TMPDIR/${name}" -`, run: `"$TMPDIR/${name}"` };
}
