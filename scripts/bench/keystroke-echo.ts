import { Learner, typeInto, waitForOutput } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { percentile, ms, report, firstOutput } from './common.ts';

export default async function keystrokeEcho(server: RunningServer) {
  const learner = new Learner(server.url);
  const { body } = await learner.request('POST', '/api/labs/orientation/session');
  const ws = learner.terminal(body.session.id);
  await waitForOutput(ws, /# $/);
  const samples: number[] = [];
  for (let key = 0; key < 200; key++) {
    const echoed = firstOutput(ws);
    const sent = performance.now();
    typeInto(ws, key % 2 === 0 ? 'x' : '\x7f');
    await echoed;
    samples.push(performance.now() - sent);
  }
  report('keystroke echo round trip, p50 (200 keys)', ms(percentile(samples, 50)), '≤ 5 ms');
  ws.close();
  await learner.request('DELETE', '/api/labs/orientation/session');
}
