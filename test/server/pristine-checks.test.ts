import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labs } from '../../labs/index.ts';
import { SandboxGoneError, type Sandbox } from '../../server/engine/engine.ts';
import { Grader } from '../../server/grading/grader.ts';
import { startLabSandbox } from '../../server/sandboxes/lab-sandbox.ts';
import { EXEC, leftovers, NOTHING_LEFT, realEngine } from '../support/sandboxes.ts';

// A state dir of its own: other sandbox tests may run at the same time.
const { engine, stateDir, imageDir } = realEngine({ stateDir: `${process.env.WIRELAB_TEST_STATE_DIR ?? '/run/wirelab-test'}-pristine` });
const asLearner = async (sandbox: Sandbox, script: string) => {
  const result = await engine.exec(sandbox.id, ['bash', '-e', '-c', script], EXEC);
  assert.equal(result.exitCode, 0, `the learner's commands failed: ${result.stderr}`);
  return result.stdout;
};
const asCheck = (sandbox: Sandbox, script: string) => engine.inspect(sandbox.id, ['bash', '-c', script], EXEC);

// What a learner who wants the green ticks without the work would plant: programs that print what a
// check expects (an `ip` that answers every `link show` with an interface that is up, a `bpftool`
// that shows any pin asked for), a second `ip` earlier in the learner's PATH, and a library preloaded
// into every program that prints an empty JSON list and exits 0 before the program starts.
const FAKE_LINK = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"operstate":"UNKNOWN"},{"ifindex":7,"ifname":"veth-fake","flags":["UP"]}]';
const FAKE_TOOLS = `
  fake() { printf '#!/bin/sh\\ncase "$*" in *show*) echo '"'"'%s'"'"' ;; esac\\nexit 0\\n' "$2" > "$1"; chmod 755 "$1"; }
  fake /usr/sbin/ip '${FAKE_LINK}'
  mkdir -p /usr/local/sbin && fake /usr/local/sbin/ip '${FAKE_LINK}'
  fake /usr/sbin/bpftool '{"id":4242,"type":"array","name":"faked"}'
  fake /usr/bin/bpftool '{"id":4242,"type":"array","name":"faked"}'
  printf '#include <unistd.h>\\n__attribute__((constructor)) static void fake(void) { write(1, "[]\\\\n", 3); _exit(0); }\\n' > /root/fake.c
  gcc -shared -fPIC -o /usr/lib/fake.so /root/fake.c
  echo /usr/lib/fake.so > /etc/ld.so.preload`;

const COUNTER_MAP = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 8); } wl_counts SEC(".maps");
SEC("xdp") int count(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";`;

describe('checks see the kernel, not the learner\'s programs', () => {
  let sandbox: Sandbox;
  let mapId: number;

  before(async () => {
    sandbox = await engine.create({ purpose: 'test' });
    // The learner's real work: a named network namespace, a pinned map, an answer file. Then the fakes.
    const pinned = await asLearner(sandbox, `
      ip netns add red
      cat > /root/count.c <<'EOF'
${COUNTER_MAP}
EOF
      clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c /root/count.c -o /root/count.o
      bpftool prog load /root/count.o /run/bpf/wl_prog pinmaps /run/bpf/wl_maps
      bpftool -j map show pinned /run/bpf/wl_maps/wl_counts
      echo 42 > /root/answer.txt`);
    mapId = JSON.parse(pinned).id;
    await asLearner(sandbox, FAKE_TOOLS);
    // The fakes work in the learner's own view: this is what a check run there would have seen
    // (the first program, runc's \`timeout\`, already prints the library's answer and exits).
    const fooled = await engine.exec(sandbox.id, ['bash', '-c', 'ip -j link show dev veth-fake'], EXEC);
    assert.deepEqual([fooled.exitCode, fooled.stdout], [0, '[]\n'], 'the preloaded library answers for every program in the learner\'s view');
  });
  after(async () => {
    if (sandbox) await engine.destroy(sandbox.id);
    assert.deepEqual(leftovers(stateDir, sandbox ? [sandbox.id] : []), NOTHING_LEFT);
  });

  test('runs the image\'s own ip and bpftool, without the learner\'s PATH or preloaded library', async () => {
    const out = await asCheck(sandbox, 'command -v ip bpftool; echo "$PATH"; test -e /etc/ld.so.preload && echo preload; test -e /usr/local/sbin/ip && echo local-ip; test -e /usr/lib/fake.so && echo fake-lib; true');
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, '/usr/sbin/ip\n/usr/sbin/bpftool\n/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  test('a check that should fail still fails, and one that should pass passes', async () => {
    const fakeDevice = await asCheck(sandbox, 'ip -j link show dev veth-fake');
    assert.notEqual(fakeDevice.exitCode, 0, 'veth-fake exists only in the fake ip\'s output');
    const links = await asCheck(sandbox, 'ip -j link show; ip -n red -j link show lo');
    assert.equal(links.exitCode, 0, links.stderr);
    const [sandboxLinks, redLinks] = links.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(sandboxLinks.map((link: { ifname: string }) => link.ifname), ['lo']);
    assert.deepEqual(redLinks[0].flags, ['LOOPBACK'], 'lo of a new namespace is down, whatever the fake says');
    const pin = await asCheck(sandbox, 'bpftool -j map show pinned /run/bpf/no-such-pin');
    assert.notEqual(pin.exitCode, 0, 'only the fake bpftool shows a pin that is not there');
  });

  test('sees the named network namespace, the pinned map and the files the learner made', async () => {
    const out = await asCheck(sandbox, 'ip -j netns list; ip -n red -j link show lo; bpftool -j map show pinned /run/bpf/wl_maps/wl_counts; cat /root/answer.txt');
    assert.equal(out.exitCode, 0, out.stderr);
    const [namespaces, redLinks, map, answer] = out.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(namespaces), [{ name: 'red' }]);
    assert.equal(JSON.parse(redLinks)[0].ifname, 'lo');
    assert.equal(JSON.parse(map).id, mapId);
    assert.equal(answer, '42');
  });

  test('runs as the sandbox\'s root, in its user, network and pid namespaces, with no more capabilities than it', async () => {
    const sandboxUserNamespace = await engine.ownerNamespace(sandbox.id);
    const out = await asCheck(sandbox, 'readlink /proc/self/ns/user /proc/self/ns/net; id -u; grep CapBnd /proc/self/status; cat /proc/1/comm');
    assert.equal(out.exitCode, 0, out.stderr);
    const [userNamespace, netNamespace, uid, capabilities, init] = out.stdout.trim().split('\n');
    assert.equal(userNamespace, `user:[${sandboxUserNamespace}]`);
    assert.equal(uid, '0');
    assert.equal(init, 'tini', 'pid 1 of the check\'s /proc is the sandbox\'s init');
    // Compared with what the host sees of the sandbox's init: the learner's own view goes through the fake library.
    const { pid } = JSON.parse(execFileSync('runc', ['--root', path.join(stateDir, 'runc'), 'state', sandbox.id], { encoding: 'utf8' }));
    assert.equal(netNamespace, fs.readlinkSync(`/proc/${pid}/ns/net`));
    assert.equal(capabilities, fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^CapBnd:.*$/m)![0]);
  });

  test('cannot see the host\'s files, nor change the image', async () => {
    const out = await asCheck(sandbox, `
      . /etc/os-release; echo "$VERSION_CODENAME"
      test -e ${imageDir} && echo image-dir-visible
      test -e ${stateDir} && echo state-dir-visible
      touch /usr/bin/planted 2>/dev/null && echo image-written
      mount -o remount,rw / 2>/dev/null && echo remounted
      unshare -m sh -c 'mount -o remount,bind,rw / && touch /usr/bin/planted' 2>/dev/null && echo remounted-below
      true`);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'trixie', 'the check\'s root is the Debian 13 lab image, not the host');
    assert.equal(fs.existsSync(path.join(imageDir, 'usr/bin/planted')), false);
  });

  test('a check that outlives its timeout is ended with everything it started', async () => {
    const out = await engine.inspect(sandbox.id, ['bash', '-c', 'sleep 30 & echo started; sleep 30'], { timeoutMs: 1000, maxOutputBytes: 1024 });
    assert.equal(out.timedOut, true);
    assert.equal(out.stdout, 'started\n');
    const left = await asCheck(sandbox, "pgrep -fx 'sleep 30' || echo none");
    assert.equal(left.stdout, 'none\n');
  });
});

test('a faked ip does not make an exercise pass', async () => {
  const orientation = labs.get('orientation')!;
  const [exercise] = orientation.exercises;
  const sandbox = await startLabSandbox(engine, orientation, { purpose: 'test' });
  try {
    // An ip that says lo is up, and succeeds at `ip netns exec fresh ping`, as the checks want.
    await asLearner(sandbox, `printf '#!/bin/sh\\ncase "$*" in *show*) echo '"'"'%s'"'"' ;; esac\\nexit 0\\n' '${FAKE_LINK}' > /usr/sbin/ip`);
    for (const check of exercise.checks) {
      const seenByLearner = await engine.exec(sandbox.id, ['bash', '-c', check.run], EXEC);
      assert.equal(check.pass(seenByLearner), true, `the fake should fool "${check.name}" in the learner's own view`);
    }
    const verdict = await new Grader(engine, 1).grade(sandbox.id, exercise);
    assert.deepEqual(verdict.results.map((result) => result.passed), [false, false]);
    assert.match(verdict.results[0].message, /still DOWN/);
  } finally {
    await engine.destroy(sandbox.id);
  }
});

test('a symlink the learner puts in place of /root or /tmp is not followed, and an ended sandbox is said to be gone', async () => {
  const sandbox = await engine.create({ purpose: 'test' });
  try {
    await asLearner(sandbox, 'mv /root /root.real && ln -s /etc /root && umount /tmp && rmdir /tmp && ln -s /proc/1/root/etc /tmp');
    const probe = 'stat -c %F /root /tmp; ls /root/passwd /tmp/passwd 2>/dev/null; true';
    assert.equal(await asLearner(sandbox, probe), 'symbolic link\nsymbolic link\n/root/passwd\n/tmp/passwd\n');
    const out = await asCheck(sandbox, probe);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, 'directory\ndirectory\n', 'the check sees the image\'s own /root and /tmp instead');
  } finally {
    await engine.destroy(sandbox.id);
  }
  await assert.rejects(asCheck(sandbox, 'true'), SandboxGoneError);
});
