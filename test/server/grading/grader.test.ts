import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, ok, type Exercise } from '../../../labs/define-lab.ts';
import type { Sandbox } from '../../../server/engine/engine.ts';
import { Grader } from '../../../server/grading/grader.ts';
import { realEngine } from '../../support/sandboxes.ts';

const { engine } = realEngine();
const grader = new Grader(engine, 2);
let sandbox: Sandbox;

const exercise = (checks: Exercise['checks']): Exercise => ({ id: 'e', title: 'E', task: 't', hint: 'h', solution: 's', checks });

describe('the grader', () => {
  before(async () => {
    sandbox = await engine.create({ purpose: 'test' });
  });
  after(() => engine.destroy(sandbox.id));

  test('reports each criterion, with the specific message a check returns', async () => {
    const verdict = await grader.grade(sandbox.id, exercise([
      { name: 'lo exists', run: 'ip -j link show lo', pass: (out) => json(out)[0].ifname === 'lo' },
      { name: 'a namespace called red', run: 'ip -j netns list', pass: (out) => out.stdout.includes('red') || 'There is no namespace red yet.' },
    ]));
    assert.equal(verdict.passed, false);
    assert.deepEqual(verdict.results.map(({ name, passed, message }) => ({ name, passed, message })), [
      { name: 'lo exists', passed: true, message: 'Passed.' },
      { name: 'a namespace called red', passed: false, message: 'There is no namespace red yet.' },
    ]);
  });

  test('a non-zero exit fails with the check\'s own message', async () => {
    const { results } = await grader.grade(sandbox.id, exercise([{ name: 'no such file', run: 'cat /nope', pass: ok, fail: 'The file /nope is missing.' }]));
    assert.deepEqual([results[0].passed, results[0].message], [false, 'The file /nope is missing.']);
  });

  test('a command that hangs fails after its timeout instead of hanging the grader', async () => {
    const started = performance.now();
    const { results } = await grader.grade(sandbox.id, exercise([{ name: 'hangs', run: 'sleep 60', pass: ok, timeoutMs: 1000 }]));
    assert.equal(results[0].passed, false);
    assert.match(results[0].message, /did not finish within 1 s/);
    assert.ok(performance.now() - started < 5000);
  });

  test('unparsable output fails with what was expected and what came', async () => {
    const { results } = await grader.grade(sandbox.id, exercise([{ name: 'json', run: 'echo "not json"; echo oops >&2', pass: (out) => json(out).length > 0 }]));
    assert.equal(results[0].passed, false);
    assert.match(results[0].message, /expected JSON, got "not json\\n"/);
    assert.match(results[0].message, /It said: oops/);
  });

  test('a check function that throws is a failed criterion, not a crash', async () => {
    const { results } = await grader.grade(sandbox.id, exercise([{ name: 'buggy', run: 'true', pass: () => { throw new TypeError('x is undefined'); } }]));
    assert.equal(results[0].passed, false);
    assert.match(results[0].message, /x is undefined/);
  });

  test('output beyond the cap fails clearly', async () => {
    const { results } = await grader.grade(sandbox.id, exercise([{ name: 'flood', run: 'yes | head -c 1000000', pass: () => true }]));
    assert.equal(results[0].passed, false);
    assert.match(results[0].message, /larger than 256 KiB/);
  });

  test('checks of one sandbox never overlap', async () => {
    const marker = exercise([{ name: 'exclusive', run: 'mkdir /tmp/lock && sleep 0.3 && rmdir /tmp/lock', pass: ok }]);
    const verdicts = await Promise.all([1, 2, 3].map(() => grader.grade(sandbox.id, marker)));
    assert.deepEqual(verdicts.map((v) => v.passed), [true, true, true]);
  });
});
