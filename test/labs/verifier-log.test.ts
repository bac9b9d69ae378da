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
  assert.match(explanation.explanation!, /offset 23 from a packet pointer, but comparisons with data_end have proven only 14 bytes/);
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

// Each classic refusal, as this kernel printed it: recognised, explained, and traced to the C line.
const CLASSICS: [log: string, complaint: RegExp, sourceLine: RegExp | null][] = [
  ['xdp-guard-a-packet-bounds', /^invalid access to packet, off=16 size=2/, /udp->dest/],
  ['xdp-guard-b-map-value-or-null', /^R1 invalid mem access 'map_value_or_null'/, /count/],
  ['map-null-hash-plain', /^R0 invalid mem access 'map_value_or_null'/, /count/],
  ['loop-infinite', /^infinite loop detected at insn 0/, null],
  ['loop-unbounded', /^BPF program is too large\. Processed 1000001 insn/, /./],
  ['pkt-math-unbounded-min', /^math between pkt pointer and register with unbounded min value/, /./],
  ['unreachable-insn', /^unreachable insn 2/, null],
  ['stack-fixed-offset', /^invalid write to stack R10 off=-520 size=8/, null],
  ['stack-out-of-bounds', /^invalid variable-offset write to stack/, /seen\[/],
  ['gpl-helper-no-license', /cannot call GPL-restricted function from non-GPL compatible program/, null],
  ['helper-wrong-prog-type', /^program of this type cannot use helper bpf_skb_store_bytes#9/, null],
  ['ringbuf-unreleased', /^Unreleased reference id=2/, null],
  ['ctx-bad-access', /^invalid bpf_context access off=16 size=4/, null],
];

for (const [name, complaint, sourceLine] of CLASSICS) {
  test(`${name}: recognised and explained`, () => {
    const explanation = explainVerifierLog(log(name))!;
    assert.ok(explanation, 'a verifier complaint is found');
    assert.match(explanation.complaint, complaint);
    assert.ok(explanation.explanation && explanation.fix, `the table explains "${explanation.complaint}"`);
    if (sourceLine) assert.match(explanation.source?.code ?? '', sourceLine);
  });
}
