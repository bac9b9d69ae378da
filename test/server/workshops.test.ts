import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type WebSocket from 'ws';
import { instructorCommand, printedPassword } from '../support/instructors.ts';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../support/server.ts';

const refusal = async (ws: WebSocket) => ((await once(ws, 'error')) as [Error])[0].message;

describe('workshops', () => {
  let server: RunningServer;
  let dataDir: string;
  const passwords: Record<string, string> = {};

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-workshops-'));
    server = await startServer({ port: 3301, dataDir, env: { WIRELAB_TRUSTED_PROXIES: '127.0.0.1' } });
    for (const name of ['grace', 'linus']) passwords[name] = printedPassword(instructorCommand(dataDir, 'add', name));
    passwords.root = printedPassword(instructorCommand(dataDir, 'add', 'root', '--admin'));
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const signedIn = async (name: string) => {
    const instructor = new Learner(server.url);
    const answer = await instructor.request('POST', '/api/instructor/login', { name, password: passwords[name] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return instructor;
  };
  const newWorkshop = async (instructor: Learner, labs = ['orientation']) => {
    const { status, body } = await instructor.request('POST', '/api/instructor/workshops', { title: 'Kernel networking, day 1', labs });
    assert.equal(status, 200, JSON.stringify(body));
    return body.workshop as { id: string; joinCode: string };
  };
  const joined = async (code: string, name: string) => {
    const learner = new Learner(server.url);
    const { status, body } = await learner.request('POST', `/api/join/${code}`, { name });
    assert.equal(status, 200, JSON.stringify(body));
    return { learner, displayName: body.displayName as string };
  };

  test('instructor accounts: the CLI, signing in and out, and nothing for a learner cookie', async () => {
    assert.match(instructorCommand(dataDir, 'list'), /^grace\s+since[\s\S]*^root\s+admin/m);
    const learner = new Learner(server.url);
    await learner.request('GET', '/api/progress');
    const wrong = await learner.request('POST', '/api/instructor/login', { name: 'grace', password: 'letmein' }, { 'x-forwarded-for': '198.51.100.1' });
    assert.deepEqual(wrong, { status: 401, body: { error: 'That name and password do not match an instructor account.' } });

    const grace = await signedIn('grace');
    assert.match(grace.cookie, /wirelab_instructor=instructor:/);
    assert.deepEqual((await grace.request('GET', '/api/instructor/me')).body, { name: 'grace', isAdmin: false });
    const workshop = await newWorkshop(grace);
    for (const [method, pathname] of [
      ['GET', '/api/instructor/workshops'],
      ['GET', `/api/instructor/workshops/${workshop.id}`],
      ['GET', `/api/instructor/workshops/${workshop.id}/events`],
      ['GET', `/api/instructor/workshops/${workshop.id}/grades.csv`],
      ['POST', `/api/instructor/workshops/${workshop.id}/end`],
      ['GET', `/api/instructor/workshops/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`],
    ]) {
      const answer = await learner.request(method, pathname);
      assert.equal(answer.status, 401, `${method} ${pathname} refuses a learner`);
      assert.doesNotMatch(JSON.stringify(answer.body), /day 1|workshop with that id/, 'and says nothing of what exists');
    }
    const forged = new Learner(server.url);
    await forged.request('GET', '/api/instructor/me', undefined, { cookie: `wirelab_instructor=instructor:${'A'.repeat(43)}.forged` });
    assert.equal((await forged.request('GET', '/api/instructor/me', undefined, { cookie: `wirelab_instructor=instructor:${'A'.repeat(43)}.forged` })).status, 401);

    await grace.request('POST', '/api/instructor/logout');
    assert.equal((await grace.request('GET', '/api/instructor/me')).status, 401, 'signed out');
    const again = await signedIn('grace');
    passwords.grace = printedPassword(instructorCommand(dataDir, 'reset-password', 'grace'));
    assert.equal((await again.request('GET', '/api/instructor/me')).status, 401, 'a new password signs out everywhere');
  });

  test('an instructor sees only their own workshops; an admin sees all', async () => {
    const grace = await signedIn('grace');
    const linus = await signedIn('linus');
    const root = await signedIn('root');
    const workshop = await newWorkshop(grace);
    assert.deepEqual(await linus.request('GET', `/api/instructor/workshops/${workshop.id}`), { status: 404, body: { error: 'You have no workshop with that id.' } });
    assert.equal((await linus.request('GET', `/api/instructor/workshops/${workshop.id}/grades.json`)).status, 404);
    assert.ok(!(await linus.request('GET', '/api/instructor/workshops')).body.workshops.some((w: { id: string }) => w.id === workshop.id));
    assert.equal((await root.request('GET', `/api/instructor/workshops/${workshop.id}`)).status, 200);

    const bad = await grace.request('POST', '/api/instructor/workshops', { title: 'x', labs: ['no-such-lab'] });
    assert.deepEqual(bad, { status: 400, body: { error: 'No chapter of the course has the lab no-such-lab.' } });
    assert.match((await grace.request('POST', '/api/instructor/workshops', { title: ' ', labs: [] })).body.error, /title[\s\S]*choose at least one lab/);
  });

  test('joining: codes typed by hand, names validated and made unique, unknown codes rate-limited', async () => {
    const grace = await signedIn('grace');
    const workshop = await newWorkshop(grace);
    assert.match(workshop.joinCode, /^[A-HJ-NP-Z]{4}-\d{4}$/);
    const learner = new Learner(server.url);
    const typed = workshop.joinCode.toLowerCase().replace('-', ' ');
    assert.deepEqual((await learner.request('GET', `/api/join/${encodeURIComponent(typed)}`)).body, { title: 'Kernel networking, day 1', code: workshop.joinCode, endsAt: null, joinedAs: null });

    for (const [name, error] of [
      ['<script>alert(1)</script>', /letters, digits, spaces/],
      ['x'.repeat(41), /41 characters long: keep it to 40/],
      ['   ', /Enter a name/],
      ['--', /at least one letter or digit/],
    ] as const) {
      const answer = await learner.request('POST', `/api/join/${workshop.joinCode}`, { name });
      assert.equal(answer.status, 400);
      assert.match(answer.body.error, error);
    }
    assert.deepEqual((await grace.request('GET', `/api/instructor/workshops/${workshop.id}`)).body.rows, [], 'a refused name stores nothing');

    const first = await learner.request('POST', `/api/join/${workshop.joinCode}`, { name: '  Ada   Lovelace ' });
    assert.equal(first.body.displayName, 'Ada Lovelace');
    assert.equal((await learner.request('POST', `/api/join/${workshop.joinCode}`, { name: 'Someone else' })).body.displayName, 'Ada Lovelace', 'joining twice keeps the first name');
    assert.equal((await joined(workshop.joinCode, 'ada lovelace')).displayName, 'ada lovelace (2)');
    assert.equal((await joined(workshop.joinCode, 'Ada Lovelace')).displayName, 'Ada Lovelace (3)');

    const guesser = new Learner(server.url);
    const from = { 'x-forwarded-for': '203.0.113.9' };
    for (let attempt = 0; attempt < 10; attempt++) {
      assert.match((await guesser.request('GET', `/api/join/ZZZZ-${String(attempt).padStart(4, '0')}`, undefined, from)).body.error, /No workshop has the code ZZZZ-000\d: check it with your instructor/);
    }
    const limited = await guesser.request('GET', `/api/join/${workshop.joinCode}`, undefined, from);
    assert.equal(limited.status, 429, 'even the right code waits once a client has guessed too often');
    assert.match(limited.body.error, /Too many failed attempts from your network: try again in 10 minutes/);
    assert.equal((await guesser.request('GET', `/api/join/${workshop.joinCode}`, undefined, { 'x-forwarded-for': '203.0.113.10' })).status, 200, 'other clients are not held back');
  });

  test('the live grid follows three learners, and the instructor watches, resets, messages, warms, exports and ends', async () => {
    const grace = await signedIn('grace');
    const workshop = await newWorkshop(grace, ['orientation', 'netns-veth']);
    const grid = await grace.subscribe(`/api/instructor/workshops/${workshop.id}/events`);
    const first = await grid.until((event) => event.data.type === 'grid');
    assert.deepEqual(first.data.columns.map((column: { key: string }) => column.key), ['orientation/loopback-up', 'netns-veth/connect-red-blue']);
    const rowOf = (name: string, matches: (cell: any) => boolean, key = 'orientation/loopback-up') =>
      grid.until((event) => event.data.type === 'row' && event.data.row.displayName === name && matches(event.data.row.cells[key]));

    const { learner: solver } = await joined(workshop.joinCode, 'Solver');
    const { learner: struggler } = await joined(workshop.joinCode, '-Struggler');
    const { learner: hinted } = await joined(workshop.joinCode, 'Hinted');
    await rowOf('Hinted', (cell) => cell.state === 'not-started');
    const notices = await struggler.subscribe('/api/workshop/notices');
    await notices.until((event) => event.data.type === 'viewing' && event.data.watching === false);

    const solverSession = (await solver.request('POST', '/api/labs/orientation/session')).body.session.id;
    const strugglerSession = (await struggler.request('POST', '/api/labs/orientation/session')).body.session.id;
    await rowOf('Solver', (cell) => cell.state === 'working' && cell.attempts === 0);
    const solverShell = solver.terminal(solverSession);
    await waitForOutput(solverShell, /# $/);
    typeInto(solverShell, 'ip -n fresh link set lo up && lab check\r');
    await rowOf('Solver', (cell) => cell.state === 'passed' && cell.attempts === 1 && cell.passedAt);

    await struggler.request('POST', '/api/labs/orientation/exercises/loopback-up/check', { trigger: 'button' });
    const failing = await rowOf('-Struggler', (cell) => cell.state === 'working' && cell.attempts === 1);
    assert.deepEqual(failing.data.row.cells['orientation/loopback-up'].failing, { criterion: 'lo is up in namespace fresh', message: 'lo in namespace fresh is still DOWN (flags: LOOPBACK).' });

    await hinted.request('POST', '/api/labs/orientation/exercises/loopback-up/hint');
    await rowOf('Hinted', (cell) => cell.hintSeen && !cell.solutionSeen && cell.state === 'working' && cell.attempts === 0);

    // The read-only view: the learner's own shell, scrollback first; what the viewer sends goes nowhere.
    const strugglerShell = struggler.terminal(strugglerSession);
    await waitForOutput(strugglerShell, /# $/);
    typeInto(strugglerShell, 'echo before-$((40 + 2))\r');
    await waitForOutput(strugglerShell, /before-42/);
    const ttyPath = (learnerId: string, host = 'lab') => `/api/instructor/workshops/${workshop.id}/learners/${learnerId}/labs/orientation/tty?host=${host}`;
    const strugglerId = failing.data.row.learnerId;
    assert.match(await refusal(struggler.socket(ttyPath(strugglerId))), /401/, 'a learner cannot watch');
    assert.match(await refusal((await signedIn('linus')).socket(ttyPath(strugglerId))), /404/, 'nor another workshop\'s instructor');
    const view = grace.socket(ttyPath(strugglerId));
    const sizeMessage = once(view, 'message');
    await waitForOutput(view, /before-42/);
    assert.deepEqual(JSON.parse(String((await sizeMessage)[0])), { type: 'size', cols: 100, rows: 30 });
    await notices.until((event) => event.data.type === 'viewing' && event.data.watching === true);
    typeInto(view, 'echo from-the-viewer\r');
    typeInto(strugglerShell, 'echo typed-$((6 * 7))\r');
    await waitForOutput(view, /typed-42/);
    view.close();
    await notices.until((event) => event.data.type === 'viewing' && event.data.watching === false && notices.received.filter((e) => e.data.watching === true).length === 1);
    typeInto(strugglerShell, 'history | tail -n 3\r');
    assert.doesNotMatch(await waitForOutput(strugglerShell, /history \| tail/), /from-the-viewer/);

    // Messages reach the class, or one learner.
    await grace.request('POST', `/api/instructor/workshops/${workshop.id}/messages`, { text: 'Ten minutes left' });
    await grace.request('POST', `/api/instructor/workshops/${workshop.id}/messages`, { text: 'Look at lo', learnerId: strugglerId });
    await notices.until((event) => event.data.type === 'message' && event.data.message.text === 'Look at lo');
    const hintedPage = (await hinted.request('GET', '/api/workshop')).body;
    assert.deepEqual(hintedPage.messages.map((message: { text: string }) => message.text), ['Ten minutes left']);

    // A reset: a fresh sandbox, and the learner's page is told.
    assert.equal((await grace.request('POST', `/api/instructor/workshops/${workshop.id}/learners/${strugglerId}/labs/orientation/reset`)).status, 200);
    await notices.until((event) => event.data.type === 'sandbox' && event.data.action === 'reset' && event.data.labId === 'orientation');
    assert.notEqual((await struggler.request('GET', '/api/labs/orientation')).body.session.id, strugglerSession);

    // Warming: every learner without a sandbox of the lab gets one; Start lab then finds it.
    const warmed = await grace.request('POST', `/api/instructor/workshops/${workshop.id}/labs/netns-veth/warm`);
    assert.deepEqual(warmed.body, { learners: 3, alreadyRunning: 0, started: 3, refusedForCapacity: 0 });
    const warm = (await hinted.request('GET', '/api/labs/netns-veth')).body.session.id;
    assert.equal((await hinted.request('POST', '/api/labs/netns-veth/session')).body.session.id, warm);

    // The export: a row per learner and exercise, cells that would be formulas defused, and the
    // answers to the quiz of the chapter each exercise is in.
    await hinted.request('POST', '/api/quizzes/p1-quiz/answers', { question: 0, choice: 1, correct: true });
    const csv = (await grace.request('GET', `/api/instructor/workshops/${workshop.id}/grades.csv`)).body as string;
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], 'learner,lab,exercise,passed,first passed at,attempts,hints viewed,solution viewed,seconds from first start to pass,quiz answers');
    assert.equal(lines.length, 1 + 3 * 2);
    assert.match(lines.find((line) => line.startsWith('Solver,orientation'))!, /^Solver,orientation,loopback-up,yes,\d{4}-\d\d-\d\dT[^,]+,1,0,no,\d+,$/);
    assert.match(lines.find((line) => line.includes('Struggler,orientation'))!, /^'-Struggler,orientation,loopback-up,no,,1,0,no,,$/);
    assert.match(lines.find((line) => line.startsWith('Hinted,orientation'))!, /^Hinted,orientation,loopback-up,no,,0,1,no,,$/);
    assert.equal(lines.find((line) => line.startsWith('Hinted,netns-veth')), 'Hinted,netns-veth,connect-red-blue,no,,0,0,no,,p1-quiz q1: choice 2 right');

    // Ending: sandboxes gone, grades frozen, no more joining.
    const ended = await grace.request('POST', `/api/instructor/workshops/${workshop.id}/end`);
    assert.ok(ended.body.workshop.endedAt);
    await notices.until((event) => event.data.type === 'workshop-ended');
    assert.equal((await hinted.request('GET', '/api/labs/netns-veth')).body.session, null);
    await hinted.request('POST', '/api/labs/orientation/exercises/loopback-up/solution');
    const frozen = (await grace.request('GET', `/api/instructor/workshops/${workshop.id}/grades.json`)).body;
    assert.equal(frozen.frozen, true);
    assert.equal(frozen.rows.find((row: { learner: string; lab: string }) => row.learner === 'Hinted' && row.lab === 'orientation').solutionViewed, false, 'activity after the end is not in the grades');
    assert.equal((await new Learner(server.url).request('GET', `/api/join/${workshop.joinCode}`)).status, 410);

    for (const shell of [solverShell, strugglerShell]) shell.close();
    for (const learner of [solver, struggler, hinted]) for (const lab of ['orientation', 'netns-veth']) await learner.request('DELETE', `/api/labs/${lab}/session`);
    await Promise.all([grid.close(), notices.close()]);
  });

  test('a resume link moves a learner to another device', async () => {
    const grace = await signedIn('grace');
    const workshop = await newWorkshop(grace);
    const { learner } = await joined(workshop.joinCode, 'Traveller');
    const { resumePath } = (await learner.request('GET', '/api/workshop')).body;
    const laptop = new Learner(server.url);
    const token = decodeURIComponent(resumePath.slice('/resume#'.length));
    const resumed = await laptop.request('POST', '/api/resume', { token });
    assert.equal(resumed.body.displayName, 'Traveller');
    assert.equal((await laptop.request('GET', '/api/workshop')).body.displayName, 'Traveller', 'the new device is the same learner');
    const tampered = await new Learner(server.url).request('POST', '/api/resume', { token: token.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')) });
    assert.equal(tampered.status, 404);
    const cookieValue = learner.cookie.match(/wirelab_learner=([^;]+)/)![1];
    assert.equal((await new Learner(server.url).request('POST', '/api/resume', { token: decodeURIComponent(cookieValue) })).status, 404, 'a learner cookie is not a resume link');
  });
});
