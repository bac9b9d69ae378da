import crypto from 'node:crypto';
import type { Browser } from '@playwright/test';
import { expect, Shell, test } from './fixtures';

// The BPF lab: its sandbox has every BPF tool a snooping learner would reach for.
const CHAPTER = 'xdp-and-ebpf';
const LAB = 'hello-xdp';

// A learner in a browser of their own (their own cookie) with the lab started. Everything the server
// sends to their page is kept, so what scrolled off their screen can be checked too.
async function learnerWithLab(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  let received = '';
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => (received += payload.toString()));
  });
  const shell = new Shell(page);
  const lab = page.locator(`[data-lab="${LAB}"]`);
  await page.goto(`/learn/${CHAPTER}`);
  await lab.scrollIntoViewIfNeeded();
  // "unavailable" here means the server found its kernel (as seen from a sandbox) unable to run the lab.
  await expect(lab, 'the lab can start on this server').toHaveAttribute('data-phase', 'idle');
  await shell.startLab(LAB);
  return { context, shell, lab, received: () => received };
}

test('a learner cannot see what another learner types', async ({ browser, server }) => {
  const token = crypto.randomUUID();
  const a = await learnerWithLab(browser, server.url);
  const b = await learnerWithLab(browser, server.url);

  // A's secret: in the environment of A's shell, in the name of a process, and written again and again.
  await a.shell.type(`export SECRET=${token}`);
  await a.shell.type('(while sleep 0.5; do echo "$SECRET" > /dev/null; done) &');
  await a.shell.type('(exec -a "secret-$SECRET" sleep 600) &');
  // The shell expands $SECRET: typed-<token> comes from the shell, not from the echo of the typed line.
  await a.shell.run('echo "typed-$SECRET"', `typed-${token}`);
  // Inside A's own sandbox the process is there to be found.
  await a.shell.run(`printf 'secret processes: %s\\n' "$(pgrep -fc "^secret-$SECRET")"`, 'secret processes: 1');

  // B tries each way a learner used to snoop on other learners.
  const snoops: { command: string; refused?: RegExp }[] = [
    // Every write(2) on the machine, A's included.
    { command: `timeout 5 bpftrace -e 'tracepoint:syscalls:sys_enter_write { printf("%s\\n", str(args->buf)); }'`, refused: /ERROR: tracepoint not found/ },
    // Every line any bash reads: the lab image's /bin/bash is the one A's shell runs.
    { command: `timeout 5 bpftrace -e 'uretprobe:/bin/bash:readline { printf("%s\\n", str(retval, 40)); }'`, refused: /ERROR: Loading BPF object\(s\) failed/ },
    { command: `cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c SECRET` },
    { command: 'ps -eo pid,args' },
    { command: `grep -ra ${token.slice(0, 8)} /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null` },
    { command: 'bpftool prog show', refused: /Operation not permitted/ },
    // The bpffs iterator that lists every BPF program on the machine.
    { command: 'cat /run/bpf/progs.debug', refused: /Permission denied/ },
    { command: 'mount -t tracefs none /mnt && timeout 3 cat /mnt/trace_pipe', refused: /permission denied/ },
  ];
  for (const [index, { command, refused }] of snoops.entries()) {
    // printf prints "snoop N over" only once the command has finished; the typed line does not contain it.
    await b.shell.type(`clear; ${command}; printf 'snoop %s over\\n' ${index}`);
    await expect(b.shell.screen()).toContainText(`snoop ${index} over`, { timeout: 30_000 });
    if (refused) await expect(b.shell.screen()).toContainText(refused);
    await expect(b.shell.screen()).not.toContainText(token);
  }
  await expect(b.shell.screen()).not.toContainText(token);
  expect(b.received(), 'everything B\'s terminal received, scrollback included').not.toContain(token);

  await a.shell.run('echo "still-$((6 * 7))-A"', 'still-42-A');
  for (const learner of [a, b]) {
    await learner.lab.getByRole('button', { name: 'End' }).click();
    await expect(learner.lab.getByRole('button', { name: 'Start lab on my files' })).toBeVisible();
    await learner.context.close();
  }
});
