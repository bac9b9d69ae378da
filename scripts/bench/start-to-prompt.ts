import { Learner } from '../../test/support/server.ts';
import type { RunningServer } from '../../test/support/server.ts';
import { percentile, ms, report, firstOutput } from './common.ts';

export default async function startToPrompt(server: RunningServer) {
  const samples: number[] = [];
  for (let run = 0; run < 20; run++) {
    const learner = new Learner(server.url);
    const started = performance.now();
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await firstOutput(ws);
    samples.push(performance.now() - started);
    ws.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
  }
  report('Start lab → first prompt byte, p50 (20 runs)', ms(percentile(samples, 50)), '≤ 250 ms');
  report('Start lab → first prompt byte, p95 (20 runs)', ms(percentile(samples, 95)), '≤ 600 ms');
}
