import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import madge from 'madge';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAX_LINES = 400;
// Where a long file is the content itself, not code that grew.
const LONG_FILES_ALLOWED = [/^test\//, /^content\//, /^e2e\//, /\.(md|mdx|json|txt|png|svg)$/, /^package-lock\.json$/];

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

test('no module imports itself round a circle', async () => {
  const graph = await madge(['server', 'labs', 'components', 'app', 'scripts'].map((dir) => path.join(ROOT, dir)), {
    baseDir: ROOT,
    fileExtensions: ['ts', 'tsx'],
    tsConfig: path.join(ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: true }, tsx: { skipTypeImports: true } },
  });
  assert.ok(Object.keys(graph.obj()).length > 100, 'madge read the tree');
  assert.deepEqual(graph.circular(), []);
});

test("server/ holds rooms (folders), and only its entry point, its configuration and its README beside them", () => {
  const loose = fs
    .readdirSync(path.join(ROOT, 'server'), { withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  assert.deepEqual(loose, ['README.md', 'config.ts', 'main.ts']);
});

test(`no source file is longer than ${MAX_LINES} lines`, () => {
  const long = tracked
    .filter((file) => !LONG_FILES_ALLOWED.some((allowed) => allowed.test(file)) && fs.existsSync(path.join(ROOT, file)))
    .map((file) => ({ file, lines: fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > MAX_LINES);
  assert.deepEqual(long, []);
});

// The rooms of server/ in layers: a room imports values only from lower layers (types cross freely).
// config.ts is read by all, even the log; it may use a room's parsers (the rates of limits/) as long
// as they import nothing of server/ themselves. server/README.md says why each room sits where it does.
const LAYERS: Record<string, number> = {
  'config.ts': 0,
  ops: 1,
  engine: 2, db: 2, limits: 2, mediation: 2,
  grading: 3, sandboxes: 3,
  http: 4,
  workshops: 5,
  'main.ts': 6,
};

test("server/'s rooms import values only from the layers below them", () => {
  const roomOf = (file: string) => file.split('/')[1];
  const serverImports = (file: string) =>
    [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^import (?!type )[^;]*? from '(\.[^']+)';/gms)]
      .map(([, specifier]) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)))
      .filter((target) => target.startsWith('server/'));
  const wrong: string[] = [];
  for (const file of tracked.filter((f) => /^server\/.*\.ts$/.test(f))) {
    for (const target of serverImports(file)) {
      const [room, other] = [roomOf(file), roomOf(target)];
      const allowed = room === other || LAYERS[other] < LAYERS[room] || (room === 'config.ts' && serverImports(target).length === 0);
      if (!allowed) wrong.push(`${file} imports ${target}`);
    }
  }
  assert.ok(Object.keys(LAYERS).every((room) => fs.existsSync(path.join(ROOT, 'server', room))), 'every layer names a room that exists');
  assert.deepEqual(wrong, []);
});
