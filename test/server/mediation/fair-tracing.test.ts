import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { labs } from '../../../labs/index.ts';
import type { Sandbox } from '../../../server/engine/engine.ts';
import { FairSlots } from '../../../server/mediation/fair-slots.ts';
import { traceRequest, Tracer } from '../../../server/mediation/tracing.ts';
import { startLabSandbox } from '../../../server/sandboxes/lab-sandbox.ts';
import { realEngine } from '../../support/sandboxes.ts';

describe('tracing slots are shared fairly between learners', () => {
  test('a learner holding a slot waits behind one who holds none, and the waiter is told why', async () => {
    const slots = new FairSlots(2);
    const told: string[] = [];
    const a1 = await slots.acquire('A', 5_000, (sentence) => told.push(`A1 ${sentence}`));
    const a2 = await slots.acquire('A', 8_000, (sentence) => told.push(`A2 ${sentence}`));
    assert.equal(told.length, 0, 'with nobody waiting, a learner may take every free slot');
    const order: string[] = [];
    const b = slots.acquire('B', 1_000, (sentence) => told.push(`B ${sentence}`)).then((release) => (order.push('B'), release));
    const a3 = slots.acquire('A', 1_000, (sentence) => told.push(`A3 ${sentence}`)).then((release) => (order.push('A3'), release));
    assert.match(told[0], /^B \(waiting for a tracing slot: this server runs 2 traces at a time and all are busy with 2 traces of 1 other learner\. Yours starts when one ends, in about 5 s\.\)$/);
    assert.match(told[1], /^A3 \(waiting for a tracing slot: .*busy with your own 2 traces; 1 more trace waits/);
    a1();
    const releaseB = await b;
    assert.deepEqual(order, ['B'], 'B, who held nothing, goes before A\'s third');
    a2();
    (await a3)();
    releaseB();
  });

  test('a waiter that gives up leaves the queue', async () => {
    const slots = new FairSlots(1);
    const held = await slots.acquire('A', 1_000, () => {});
    const giveUp = new AbortController();
    const waiting = slots.acquire('B', 1_000, () => {}, giveUp.signal);
    giveUp.abort(new Error('stopped'));
    await assert.rejects(waiting, /stopped/);
    held();
    (await slots.acquire('C', 1_000, () => assert.fail('C should not wait')))();
  });
});

describe('the host tracer with real sandboxes and bpftrace', () => {
  const { engine } = realEngine({ stateDir: '/run/wirelab-test-fair-tracing' });
  const lab = labs.get('rx-path')!;
  const tracer = new Tracer(2);
  let a: Sandbox;
  let b: Sandbox;
  before(async () => {
    [a, b] = await Promise.all([startLabSandbox(engine, lab, { learner: 'learner-a' }), startLabSandbox(engine, lab, { learner: 'learner-b' })]);
  });
  after(async () => {
    await Promise.all([a, b].filter(Boolean).map((sandbox) => engine.destroy(sandbox.id)));
  });

  test("learner A's two traces do not keep B waiting past A's first; B is told why it waits", async () => {
    const lines: Record<string, { at: number; line: string }[]> = { a1: [], a2: [], b: [] };
    const trace = (sandbox: Sandbox, name: string, seconds: number) =>
      tracer.run(engine, sandbox, traceRequest(lab, 'receive', seconds), (line) => lines[name].push({ at: Date.now(), line }), new AbortController().signal).then(() => Date.now());
    const firstEnds = trace(a, 'a1', 2);
    const secondEnds = trace(a, 'a2', 8);
    // Both of A's traces hold their slots before B asks.
    await untilLine(lines.a2, /^Tracing/);
    const bEnds = trace(b, 'b', 1);
    await untilLine(lines.b, /waiting/);
    assert.match(lines.b[0].line, /waiting for a tracing slot: this server runs 2 traces at a time and all are busy with 2 traces of 1 other learner\./);
    const aFirstEnded = await firstEnds;
    await untilLine(lines.b, /^Tracing/);
    const bStarted = lines.b.find(({ line }) => /^Tracing/.test(line))!.at;
    await bEnds;
    assert.ok(bStarted < (await secondEnds), "B's trace ran while A's second still held its slot");
    // B got its slot the moment A's first trace ended; bpftrace then compiles its program before it says "Tracing".
    assert.ok(bStarted >= aFirstEnded);
  });
});

async function untilLine(lines: { line: string }[], pattern: RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some(({ line }) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no line matched ${pattern}: ${JSON.stringify(lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
