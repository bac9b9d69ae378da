import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, ok, type Exercise } from '../../../labs/define-lab.ts';
import type { Sandbox } from '../../../server/engine/engine.ts';
import { Grader } from '../../../server/grading/grader.ts';
import { EXEC, realEngine } from '../../support/sandboxes.ts';

const { engine } = realEngine();
const grader = new Grader(engine, 2);
let sandbox: Sandbox;

const exercise = (checks: Exercise['checks']): Exercise => ({ id: 'e', title: 'E', task: 't', hint: 'h', solution: 's', checks });

// Checks that tell their outputs apart: each must get its own stdout, stderr, exit status and verdict.
const mixed = exercise([
  { name: 'json', run: 'ip -j link show lo', pass: (out) => json(out)[0].ifname === 'lo' },
  { name: 'exit status', run: 'echo "ünïcode, no newline" ; printf "to stderr" >&2; exit 3', pass: (out) => `${out.exitCode}|${out.stdout}|${out.stderr}` },
  { name: 'hangs', run: 'sleep 60', pass: ok, timeoutMs: 1000 },
  { name: 'floods', run: 'yes | head -c 1000000', pass: () => true },
  { name: 'after the others', run: 'echo last', pass: (out) => out.stdout === 'last\n' },
]);

describe('an exercise\'s checks, run in one exec', () => {
  before(async () => {
    sandbox = await engine.create({ purpose: 'test' });
  });
  after(() => engine.destroy(sandbox.id));

  test('each check keeps its own output, status, timeout and cap', async () => {
    const started = performance.now();
    const { passed, results } = await grader.grade(sandbox.id, mixed);
    assert.equal(passed, false);
    assert.deepEqual(results.map(({ name, passed, message }) => ({ name, passed, message })), [
      { name: 'json', passed: true, message: 'Passed.' },
      { name: 'exit status', passed: false, message: '3|ünïcode, no newline\n|to stderr' },
      { name: 'hangs', passed: false, message: 'The check did not finish within 1 s (`sleep 60`).' },
      { name: 'floods', passed: false, message: 'The check\'s output was larger than 256 KiB, so it could not be judged.' },
      { name: 'after the others', passed: true, message: 'Passed.' },
    ]);
    assert.ok(results[2].durationMs >= 1000 && results[2].durationMs < 3000, `the hanging check took ${results[2].durationMs} ms`);
    assert.ok(performance.now() - started < 5000);
  });

  test('where the batch cannot run (no writable /tmp), each check runs alone and is judged the same', async () => {
    const mounted = await engine.exec(sandbox.id, ['mount', '-t', 'tmpfs', '-o', 'ro', 'full', '/tmp'], EXEC);
    assert.equal(mounted.exitCode, 0, mounted.stderr);
    try {
      const { results } = await grader.grade(sandbox.id, mixed);
      assert.deepEqual(results.map(({ passed }) => passed), [true, false, false, false, true]);
      assert.equal(results[1].message, '3|ünïcode, no newline\n|to stderr');
    } finally {
      await engine.exec(sandbox.id, ['umount', '/tmp'], EXEC);
    }
  });
});
