import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../support/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

// `npm run backup -- …` as an operator runs it, pointed at the server's data dir.
function backup(dataDir: string, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('npm', ['run', '-s', 'backup', '--', ...args], { cwd: ROOT, env: { ...process.env, WIRELAB_DATA_DIR: dataDir } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

describe('npm run backup, while the server runs', () => {
  let server: RunningServer;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-backup-data-'));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-backup-out-'));
  before(async () => {
    server = await startServer({ port: 3420, dataDir });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  test('copies a consistent database, with the progress saved before it began, while learners keep saving', async () => {
    const learners = Array.from({ length: 4 }, () => new Learner(server.url));
    let saved = 0;
    let writing = true;
    // Each answer is a row written by the server; the quiz ids differ so that no row replaces another.
    const writers = learners.map(async (learner, index) => {
      for (let n = 0; writing; n++) {
        const answer = await learner.request('POST', `/api/quizzes/backup-${index}-${n}/answers`, { question: 0, choice: 1, correct: true });
        assert.equal(answer.status, 200);
        saved++;
      }
    });
    while (saved < 200) await new Promise((resolve) => setTimeout(resolve, 20));

    const target = path.join(outDir, 'wirelab-copy');
    const savedBefore = saved;
    const taken = await backup(dataDir, target);
    const savedAfter = saved;
    writing = false;
    await Promise.all(writers);

    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout, /^backed up .* to .*wirelab-copy: the database \d+\.\d (KiB|MiB) \(\d+ pages\), 0 learners' kept files 0\.0 KiB, in \d+ ms\n$/);
    assert.ok(savedAfter > savedBefore, 'the server kept writing during the backup');
    const copy = new Database(path.join(target, 'wirelab.db'), { readonly: true });
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete', 'one self-contained file: no -wal needed beside it');
      const rows = (copy.prepare(`SELECT COUNT(*) AS n FROM quiz_answers WHERE quiz_id LIKE 'backup-%'`).get() as { n: number }).n;
      assert.ok(rows >= savedBefore && rows <= savedAfter, `the copy holds ${rows} answers: at least the ${savedBefore} saved before it began, at most the ${savedAfter} saved by its end`);
      assert.equal((copy.prepare('SELECT COUNT(*) AS n FROM learners').get() as { n: number }).n, learners.length);
    } finally {
      copy.close();
    }
    assert.deepEqual(fs.readdirSync(outDir), ['wirelab-copy'], 'no partial backup is left');
    assert.deepEqual(fs.readdirSync(target).sort(), ['cookie-secret', 'files', 'wirelab.db']);
  });

  test("holds every learner's kept files, those of a running sandbox (frozen while copied) and of an ended one", async () => {
    const running = new Learner(server.url);
    const ended = new Learner(server.url);
    for (const [learner, text] of [[running, 'running-notes'], [ended, 'ended-notes']] as const) {
      const { body } = await learner.request('POST', '/api/labs/orientation/session');
      const ws = learner.terminal(body.session.id);
      await waitForOutput(ws, /# $/);
      typeInto(ws, `echo ${text} > /root/notes.txt; sync; echo done\r`);
      await waitForOutput(ws, /done\r\n[\s\S]*# $/);
      ws.close();
    }
    await ended.request('DELETE', '/api/labs/orientation/session');

    const target = path.join(outDir, 'with-files');
    const taken = await backup(dataDir, target);
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout, /, 2 learners' kept files \d+\.\d (KiB|MiB), /);
    const images = fs.readdirSync(path.join(target, 'files'));
    assert.equal(images.length, 2);
    const found = images.map((image) => readFromImage(path.join(target, 'files', image), 'upper/root/notes.txt')).sort();
    assert.deepEqual(found, ['ended-notes\n', 'running-notes\n']);

    // The running learner's sandbox was thawed: its shell still writes.
    const { body } = await running.request('GET', '/api/labs/orientation');
    const ws = running.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'echo after > /root/after.txt && echo still-writing\r');
    await waitForOutput(ws, /still-writing\r\n/);
    ws.close();
    await running.request('DELETE', '/api/labs/orientation/session');
  });

  test('refuses to replace an existing file unless told to', async () => {
    const target = path.join(outDir, 'kept');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'older.txt'), 'an older backup');
    const refused = await backup(dataDir, target);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), `backup: ${target} already exists and is not empty: name another directory, or add --force to replace it`);
    assert.equal(fs.readFileSync(path.join(target, 'older.txt'), 'utf8'), 'an older backup');

    const forced = await backup(dataDir, target, '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(fs.existsSync(path.join(target, 'older.txt')), false);
    const copy = new Database(path.join(target, 'wirelab.db'), { readonly: true });
    assert.equal(copy.pragma('quick_check', { simple: true }), 'ok');
    copy.close();

    const usage = await backup(dataDir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: npm run backup -- <directory> \[--force\]/);
  });
});

// A file inside a copied ext4 image, read with debugfs: nothing is mounted, and the copy stays as it was.
function readFromImage(image: string, file: string) {
  return execFileSync('debugfs', ['-R', `cat ${file}`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
