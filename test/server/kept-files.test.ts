import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type WebSocket from 'ws';
import { scrape } from '../support/metrics.ts';
import { Learner, startServer, typeInto, waitForOutput, type RunningServer } from '../support/server.ts';

const METRICS_TOKEN = 'kept-files-test-token-0123456789';

// The next control message (JSON text frame) of a terminal socket that matches.
function controlMessage(ws: WebSocket, type: string, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" message within ${timeoutMs} ms`)), timeoutMs);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString());
      if (message.type !== type) return;
      clearTimeout(timer);
      resolve(message);
    });
  });
}

describe("a learner's files outlive the sandbox", () => {
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirelab-kept-'));
    server = await startServer({
      port: 3217,
      dataDir,
      stateDir: '/run/wirelab-test-kept',
      // 6 s idle; a small memory limit, so that a hog meets it fast.
      env: { WIRELAB_IDLE_MINUTES: '0.1', WIRELAB_SANDBOX_MEMORY_MIB: '128', WIRELAB_METRICS_TOKEN: METRICS_TOKEN },
    });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('after the idle timeout the files are kept, named, downloadable by their learner alone, and there on the next start', async () => {
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/netns-veth/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'echo kept > /root/notes.txt; echo "# mine" >> /etc/hosts; ip netns add red; echo done\r');
    await waitForOutput(ws, /done\r\n[\s\S]*# $/);
    const ended = await controlMessage(ws, 'ended', 20_000);
    assert.equal(ended.message, 'Your sandbox was stopped after 6 seconds idle — your files are kept: Start resumes on them.');

    const status = await learner.request('GET', '/api/labs/netns-veth');
    assert.equal(status.body.session, null);
    assert.match(status.body.ended.reason, /idle — your files are kept/);
    assert.equal(status.body.ended.filesKept, true);
    assert.deepEqual(status.body.ended.lostState['network namespaces'], ['red']);

    const download = await fetch(`${server.url}/api/labs/netns-veth/files`, { headers: { cookie: learner.cookie } });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/gzip');
    const archive = path.join(dataDir, 'mine.tar.gz');
    fs.writeFileSync(archive, Buffer.from(await download.arrayBuffer()));
    const listing = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' });
    assert.match(listing, /\.\/root\/notes\.txt/);
    assert.match(listing, /\.\/etc\/hosts/);
    assert.equal(execFileSync('tar', ['-xzOf', archive, './root/notes.txt'], { encoding: 'utf8' }), 'kept\n');

    const stranger = new Learner(server.url);
    assert.equal((await stranger.request('GET', '/api/labs/netns-veth/files')).status, 404);

    const metrics = await scrape(server.url, METRICS_TOKEN);
    assert.ok(metrics.value('wirelab_kept_files') >= 1);
    assert.ok(metrics.value('wirelab_kept_files_bytes') > 0);

    const again = await learner.request("POST", "/api/labs/netns-veth/session");
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const shell = learner.terminal(again.body.session.id);
    await waitForOutput(shell, /# $/);
    typeInto(shell, 'cat /root/notes.txt; tail -n1 /etc/hosts; ip netns list | wc -l\r');
    await waitForOutput(shell, /kept\r\n# mine\r\n0\r\n/);
    shell.close();
    await learner.request('DELETE', '/api/labs/netns-veth/session');
  });

  test('Reset wipes the files', async () => {
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    typeInto(ws, 'echo gone > /root/wiped.txt; sync; echo written\r');
    await waitForOutput(ws, /written\r\n/);
    ws.close();
    const reset = await learner.request('POST', '/api/labs/orientation/session/reset');
    const shell = learner.terminal(reset.body.session.id);
    await waitForOutput(shell, /# $/);
    typeInto(shell, 'ls /root/wiped.txt\r');
    await waitForOutput(shell, /No such file or directory/);
    shell.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
  });

  test('a shell the OOM killer ends says so within 2 s, and a new shell works', async () => {
    const learner = new Learner(server.url);
    const { body } = await learner.request('POST', '/api/labs/orientation/session');
    const ws = learner.terminal(body.session.id);
    await waitForOutput(ws, /# $/);
    const [sandboxId] = fs.readdirSync('/run/wirelab-test-kept/sandboxes');
    const oomKills = () => Number(/^oom_kill (\d+)$/m.exec(fs.readFileSync(`/sys/fs/cgroup/memory/wirelab/${sandboxId}/memory.oom_control`, 'utf8'))?.[1]);
    const before = oomKills();
    // The shell becomes the hog: the OOM killer's biggest process is the shell itself.
    const exit = controlMessage(ws, 'exit', 60_000).then((message) => ({ message, at: Date.now() }));
    typeInto(ws, 'exec tail /dev/zero\r');
    let killedAt = 0;
    while (!killedAt) {
      if (oomKills() > before) killedAt = Date.now();
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const told = await exit;
    assert.match(told.message.message, /^Your shell was killed: the sandbox ran out of its 128 MiB of memory/);
    assert.equal(told.message.sandboxGone, false);
    assert.ok(told.at - killedAt <= 2000, `told ${told.at - killedAt} ms after the kill`);
    ws.close();

    const shell = learner.terminal(body.session.id);
    await waitForOutput(shell, /# $/);
    typeInto(shell, 'echo alive\r');
    await waitForOutput(shell, /alive\r\n/);
    shell.close();
    await learner.request('DELETE', '/api/labs/orientation/session');
  });

  test('files unused past the retention, and the scratch files of sandboxes a reboot lost, are swept at start-up', async () => {
    const learner = new Learner(server.url);
    await learner.request('POST', '/api/labs/orientation/session');
    await learner.request('DELETE', '/api/labs/orientation/session');
    const files = path.join(dataDir, 'files');
    const images = fs.readdirSync(files).filter((name) => name.endsWith('.orientation.ext4'));
    assert.ok(images.length >= 1);
    const longAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    for (const image of images) fs.utimesSync(path.join(files, image), longAgo, longAgo);
    // A warm sandbox's scratch image whose bundle under /run went with a reboot.
    const scratch = path.join(files, '.ephemeral', 'wl-0123456789ab.ext4');
    fs.writeFileSync(scratch, '');
    fs.utimesSync(scratch, longAgo, longAgo);
    await server.stop();
    server = await startServer({ port: 3217, dataDir, stateDir: '/run/wirelab-test-kept', env: { WIRELAB_METRICS_TOKEN: METRICS_TOKEN } });
    assert.equal(fs.existsSync(scratch), false, 'the scratch image of a sandbox that no longer exists is removed before serving');
    await waitUntil(() => images.every((image) => !fs.existsSync(path.join(files, image))));
    assert.equal((await learner.request('GET', '/api/labs/orientation')).body.ended.filesKept, false);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
