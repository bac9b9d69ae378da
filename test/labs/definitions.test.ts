import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, sh, validateLab } from '../../labs/define-lab.ts';
import { labs } from '../../labs/index.ts';

const goodLab = () => ({
  id: 'tiny',
  title: 'Tiny',
  requires: ['netns'],
  exercises: [{ id: 'one', title: 'One', task: 'Do it.', hint: 'Like this.', solution: 'true', checks: [{ name: 'runs', run: 'true', pass: ok }] }],
});

describe('lab definitions', () => {
  test('every lab in the registry is valid and lives in labs/<id>/', () => {
    assert.ok(labs.size >= 3);
    for (const [id, lab] of labs) assert.equal(lab.id, id);
  });

  test('a valid definition passes', () => {
    assert.equal(validateLab(goodLab(), 'labs/tiny/lab.ts').id, 'tiny');
  });

  test('a missing field names the file and the field', () => {
    const lab = goodLab() as Record<string, unknown>;
    delete lab.title;
    assert.throws(() => validateLab(lab, 'labs/tiny/lab.ts'), /labs\/tiny\/lab\.ts: invalid lab definition\n {2}title: /);
  });

  test('a mistyped check field is named with its path', () => {
    const lab = goodLab();
    (lab.exercises[0].checks[0] as Record<string, unknown>).pass = 'yes';
    assert.throws(() => validateLab(lab, 'labs/tiny/lab.ts'), /exercises\.0\.checks\.0\.pass: must be a function/);
  });

  test('an unknown field, kernel feature or bad id is refused', () => {
    assert.throws(() => validateLab({ ...goodLab(), setpu: 'x' }, 'labs/tiny/lab.ts'), /setpu/);
    assert.throws(() => validateLab({ ...goodLab(), requires: ['time-travel'] }, 'labs/tiny/lab.ts'), /requires\.0/);
    assert.throws(() => validateLab({ ...goodLab(), id: 'Tiny Lab' }, 'labs/tiny/lab.ts'), /id: use lower-case words/);
  });

  test('duplicate exercise ids and initiallyPassing for a check that does not exist are refused', () => {
    const twice = goodLab();
    twice.exercises.push(twice.exercises[0]);
    assert.throws(() => validateLab(twice, 'labs/tiny/lab.ts'), /exercises\.1\.id: "one" is used twice/);
    const stray = goodLab();
    Object.assign(stray.exercises[0], { initiallyPassing: { 'no such check': 'because' } });
    assert.throws(() => validateLab(stray, 'labs/tiny/lab.ts'), /no check is named "no such check"/);
  });

  test('sh removes the indentation of an indented script', () => {
    assert.equal(sh`
      ip netns add red
        echo indented`, 'ip netns add red\n  echo indented');
  });
});
