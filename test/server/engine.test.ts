import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Sandbox } from '../../server/engine/engine.ts';
import { redAndBlue } from '../../labs/namespaces.ts';
import { EXEC, leftovers, NOTHING_LEFT, realEngine } from '../support/sandboxes.ts';

const { engine, stateDir } = realEngine();
const sh = (sandbox: Sandbox, script: string) => engine.exec(sandbox.id, ['bash', '-c', script], EXEC);

const XDP_PASS = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";`;

describe('the runc engine', () => {
  test('a sandbox runs nested namespaces, veths and an XDP program, and leaves nothing behind', async () => {
    const sandbox = await engine.create({ purpose: 'test' });
    try {
      const wired = await sh(sandbox, `
        set -e
        ${redAndBlue}
        ip netns exec red ping -c 1 -W 2 10.0.0.2`);
      assert.equal(wired.exitCode, 0, wired.stderr);
      assert.match(wired.stdout, /1 received/);

      const xdp = await engine.exec(sandbox.id, ['bash', '-c', `
        set -e
        cat > /root/pass.c
        clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c /root/pass.c -o /root/pass.o
        ip netns exec blue ip link set dev veth-b xdp obj /root/pass.o sec xdp
        ip -n blue -j link show veth-b`], { ...EXEC, stdin: XDP_PASS });
      assert.equal(xdp.exitCode, 0, xdp.stderr);
      assert.ok(JSON.parse(xdp.stdout)[0].xdp.prog.id > 0, 'the XDP program is attached');

      const listed = await engine.list();
      assert.ok(listed.some((s) => s.id === sandbox.id && s.running && s.labels.purpose === 'test'), 'list() finds it with its labels');
    } finally {
      await engine.destroy(sandbox.id);
    }
    assert.deepEqual(leftovers(stateDir, [sandbox.id]), NOTHING_LEFT);
    assert.ok(!(await engine.list()).some((s) => s.id === sandbox.id));
  });

  test('exec bounds time and output, and kills what it started', async () => {
    const sandbox = await engine.create({ purpose: 'test' });
    try {
      const slow = await engine.exec(sandbox.id, ['bash', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 1000, maxOutputBytes: 1024 });
      assert.equal(slow.timedOut, true);
      assert.ok(slow.durationMs < 5000, `returned after ${slow.durationMs} ms`);
      const survivors = await sh(sandbox, "ps -eo args | grep -c '^sleep 30$' || true");
      assert.equal(survivors.stdout.trim(), '0', 'the timed-out command and its children are gone');

      const chatty = await engine.exec(sandbox.id, ['bash', '-c', 'yes | head -c 100000'], { timeoutMs: 5000, maxOutputBytes: 1000 });
      assert.equal(chatty.truncated, true);
      assert.equal(chatty.stdout.length, 1000);
    } finally {
      await engine.destroy(sandbox.id);
    }
  });

  describe('two sandboxes', () => {
    let a: Sandbox;
    let b: Sandbox;
    before(async () => {
      [a, b] = await Promise.all([engine.create({ purpose: 'test' }), engine.create({ purpose: 'test' })]);
    });
    after(async () => {
      await Promise.all([engine.destroy(a.id), engine.destroy(b.id)]);
      assert.deepEqual(leftovers(stateDir, [a.id, b.id]), NOTHING_LEFT);
    });

    test('cannot see each other\'s interfaces, namespaces or files', async () => {
      const made = await sh(a, 'ip link add secret-a type veth peer name secret-b && ip netns add only-in-a && echo hush > /root/secret.txt && mkdir -p /sys/fs/bpf/a-pin');
      assert.equal(made.exitCode, 0, made.stderr);
      const seen = await sh(b, 'ip -br link; ip netns list; ls /root /tmp /sys/fs/bpf; cat /root/secret.txt 2>&1; true');
      assert.doesNotMatch(seen.stdout, /secret-a|secret-b|only-in-a|a-pin|hush/);
      const hostLinks = (await import('node:child_process')).execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
      assert.doesNotMatch(hostLinks, /secret-a|secret-b/, 'the host does not see sandbox interfaces either');
    });

    test('have no route to anything outside themselves', async () => {
      const routes = await sh(a, 'ip -j route show table all');
      const nonLocal = JSON.parse(routes.stdout).filter((r: { table?: string; type?: string }) => r.table !== 'local');
      assert.deepEqual(nonLocal, [], 'only the loopback routes of the local table');
      const reach = await sh(a, 'ping -c 1 -W 1 10.0.2.2 2>&1; ping -c 1 -W 1 127.0.0.1 >/dev/null && echo loopback-ok');
      assert.match(reach.stdout, /Network is unreachable|connect: /);
      assert.match(reach.stdout, /loopback-ok/);
    });
  });

  test('a fork bomb meets the pids limit and a memory hog is killed, inside their own sandbox only', async () => {
    const [victim, bystander] = await Promise.all([engine.create({ purpose: 'test' }), engine.create({ purpose: 'test' })]);
    try {
      const bomb = await engine.exec(victim.id, ['bash', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 60'], { timeoutMs: 4000, maxOutputBytes: 64 * 1024 });
      assert.match(bomb.stderr + bomb.stdout, /Resource temporarily unavailable|retry: /, 'fork fails at the pids limit');
      const hog = await engine.exec(victim.id, ['bash', '-c', 'head -c 600M /dev/zero | tail > /dev/null; echo "exit $?"'], { timeoutMs: 15000, maxOutputBytes: 64 * 1024 });
      assert.match(hog.stdout, /exit 137/, `the hog was killed by the OOM killer: ${hog.stdout} ${hog.stderr}`);

      const fine = await sh(bystander, 'echo still-here');
      assert.equal(fine.stdout.trim(), 'still-here');
    } finally {
      await Promise.all([engine.destroy(victim.id), engine.destroy(bystander.id)]);
    }
    assert.deepEqual(leftovers(stateDir, [victim.id, bystander.id]), NOTHING_LEFT);
  });

  test('the host-root escape hatch, and only it, lets a learner run bpftrace', async () => {
    const hostRoot = realEngine({ stateDir: '/run/wirelab-test-host-root', isolation: 'host-root' });
    const trace = "timeout 20 bpftrace -e 'BEGIN { printf(\"traced\\n\"); exit(); }' 2>&1";
    const [privileged, confined] = await Promise.all([hostRoot.engine.create({ purpose: 'test' }), engine.create({ purpose: 'test' })]);
    try {
      const allowed = await hostRoot.engine.exec(privileged.id, ['bash', '-c', trace], EXEC);
      assert.match(allowed.stdout, /traced/);
      const refused = await sh(confined, trace);
      assert.doesNotMatch(refused.stdout, /traced/);
      assert.equal(await engine.ownerNamespace(confined.id) !== null, true, 'a confined sandbox has a user namespace of its own to trace by');
      assert.equal(await hostRoot.engine.ownerNamespace(privileged.id), null);
    } finally {
      await Promise.all([hostRoot.engine.destroy(privileged.id), engine.destroy(confined.id)]);
    }
    assert.deepEqual(leftovers(hostRoot.stateDir, [privileged.id]), NOTHING_LEFT);
  });
});
