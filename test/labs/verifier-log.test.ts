import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { describeExplanation, explainVerifierLog } from '../../labs/verifier-log.ts';

// Real logs, captured from this course's kernel (6.18) with clang 19 and iproute2 6.15 / bpftool 7.5
// in a sandbox: what a learner really sees when a program fails to load.
const LOGS = path.join(import.meta.dirname, 'verifier-logs');
const log = (name: string) => fs.readFileSync(path.join(LOGS, `${name}.log`), 'utf8');

test('a missing bounds check is traced to its source line and explained', () => {
  const explanation = explainVerifierLog(log('packet-bounds'))!;
  assert.match(explanation.complaint, /^invalid access to packet, off=23 size=1/);
  assert.deepEqual(explanation.source, { file: 'p.c', line: 20, code: 'if (ip->protocol == IPPROTO_UDP)' });
  assert.equal(explanation.instruction, '11: (71) r1 = *(u8 *)(r1 +23)');
  assert.match(explanation.explanation!, /offset 23 .* only proven that the first 14 bytes/);
  assert.match(explanation.fix!, /data_end/);
  assert.match(describeExplanation(explanation), /at p\.c:20: if \(ip->protocol == IPPROTO_UDP\)/);
});

test('a message the table does not know is shown raw with its source line, never hidden', () => {
  const unknown = log('packet-bounds').replace(/invalid access to packet.*\nR1 offset is outside of the packet/, 'some future complaint R1');
  const explanation = explainVerifierLog(unknown)!;
  assert.equal(explanation.complaint, 'some future complaint R1');
  assert.equal(explanation.source?.line, 20);
  assert.equal(explanation.explanation, undefined);
  assert.match(describeExplanation(explanation), /some future complaint R1[\s\S]*not in the course's table/);
});

test('output without a verifier log is not mistaken for one', () => {
  assert.equal(explainVerifierLog(''), null);
  assert.equal(explainVerifierLog('Error: failed to pin program xdp\n'), null);
});
