import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import type { TraceName } from '../labs/define-lab.ts';

// Tracing done by the host for a learner. Tracepoints and perf events are host-wide: a sandbox that
// could attach to them would see every other learner's packets and keystrokes, so a user-namespace
// sandbox gets none (the kernel refuses perf_event_open there). Instead, `lab trace <template>` asks
// the server, which runs the host's bpftrace with one of the programs below. The learner chooses a
// template and a duration, nothing else: no code of theirs runs on the host. Every template that
// follows packets keeps only those whose device (or receiving socket) lives in a network namespace
// owned by the learner's sandbox: every namespace a learner creates belongs to the sandbox's user
// namespace, so `…->nd_net.net->user_ns->ns.inum` names the sandbox (struct net in
// include/net/net_namespace.h, struct ns_common in include/linux/ns_common.h).

export interface TraceTemplate {
  summary: string;
  // Whether it is limited to the learner's own namespaces; a machine-wide one says why that is harmless.
  scope: 'your sandbox' | 'the whole machine';
  program: (owner: number) => string;
}

const ownerOfDevice = (device: string) => `${device}->nd_net.net->user_ns->ns.inum`;

export const TRACE_TEMPLATES: Record<TraceName, TraceTemplate> = {
  receive: {
    summary: 'packets entering the stack (net:netif_receive_skb), counted by device',
    scope: 'your sandbox',
    program: (owner) => `
      tracepoint:net:netif_receive_skb
      /${ownerOfDevice('((struct sk_buff *)args->skbaddr)->dev')} == ${owner}/
      { @packets[str(args->name)] = count(); }`,
  },
  napi: {
    summary: 'NAPI polls (napi:napi_poll) by device: how many, and how many packets they processed',
    scope: 'your sandbox',
    program: (owner) => `
      tracepoint:napi:napi_poll
      /${ownerOfDevice('((struct napi_struct *)args->napi)->dev')} == ${owner}/
      { @polls[str(args->dev_name)] = count(); @packets[str(args->dev_name)] = sum(args->work); @budget_used_up[str(args->dev_name)] = sum(args->work == args->budget); }`,
  },
  drops: {
    summary: 'packets freed as drops (skb:kfree_skb), counted by drop reason',
    scope: 'your sandbox',
    // A packet dropped at a socket may have lost its device already: then its receiving socket says whose it is.
    program: (owner) => `
      tracepoint:skb:kfree_skb {
        $skb = (struct sk_buff *)args->skbaddr;
        $owner = (uint64)0;
        if ($skb->dev != 0) { $owner = (uint64)${ownerOfDevice('$skb->dev')}; }
        else if (args->rx_sk != 0) { $owner = (uint64)((struct sock *)args->rx_sk)->__sk_common.skc_net.net->user_ns->ns.inum; }
        if ($owner == ${owner}) { @drops[args->reason] = count(); }
      }`,
  },
  softirq: {
    // A softirq serves every namespace at once and knows no owner; per-CPU counts of it are what
    // /proc/softirqs already shows every user of the machine.
    summary: 'NET_RX softirq runs (irq:softirq_entry, vector 3), counted by CPU',
    scope: 'the whole machine',
    program: () => `tracepoint:irq:softirq_entry /args->vec == 3/ { @net_rx_softirqs[cpu] = count(); }`,
  },
};

export const MAX_TRACE_SECONDS = 60;
const TRACING_DIR = '/sys/kernel/tracing';

// Runs the host's bpftrace for learners, a few at a time (each one compiles its program with LLVM:
// a second of CPU and ~100 MiB while it starts).
export class Tracer {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private dropReasons?: Map<string, string>;

  constructor(private readonly maxConcurrent: number) {}

  // Streams the trace's output, line by line, to `write`; resolves when it ends (time is up, or `signal` aborted it).
  async run(template: TraceTemplate, owner: number, seconds: number, write: (line: string) => void, signal: AbortSignal) {
    if (this.running >= this.maxConcurrent) {
      write(`(the server is tracing for ${this.running} other learners: yours starts as soon as one ends)`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      if (signal.aborted) return;
      await this.trace(template, owner, seconds, write, signal);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async trace(template: TraceTemplate, owner: number, seconds: number, write: (line: string) => void, signal: AbortSignal) {
    await ensureTracefs();
    const program = `${template.program(owner)}\ninterval:s:${seconds} { exit(); }`;
    const bpftrace = spawn('bpftrace', ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = () => bpftrace.kill('SIGINT');
    signal.addEventListener('abort', stop, { once: true });
    const reasons = this.dropReasonNames();
    let errors = '';
    bpftrace.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    for await (const line of readline.createInterface({ input: bpftrace.stdout })) {
      if (line.startsWith('Attaching ')) {
        write(`Tracing ${template.summary} in ${template.scope} for ${seconds} s (Ctrl+C stops it sooner)...`);
        continue;
      }
      if (!line.trim()) continue;
      write(line.replace(/^@drops\[(\d+)\]/, (whole, reason: string) => `@drops[${reasons.get(reason) ?? reason}]`));
    }
    const code = await new Promise<number | null>((resolve) => (bpftrace.exitCode !== null ? resolve(bpftrace.exitCode) : bpftrace.once('close', resolve)));
    signal.removeEventListener('abort', stop);
    if (code !== 0 && !signal.aborted) {
      const reason = errors.split('\n').filter((line) => /ERROR/.test(line) && !/RLIMIT_MEMLOCK/.test(line)).join(' ') || `bpftrace exited with ${code}`;
      throw new Error(`the trace failed on the host: ${reason}`);
    }
  }

  // skb:kfree_skb carries the drop reason as a number; its format file names them (enum skb_drop_reason).
  private dropReasonNames() {
    if (!this.dropReasons) {
      const format = fs.readFileSync(`${TRACING_DIR}/events/skb/kfree_skb/format`, 'utf8');
      this.dropReasons = new Map([...format.matchAll(/\{ (\d+), "([A-Z0-9_]+)" \}/g)].map(([, number, name]) => [number, name]));
    }
    return this.dropReasons;
  }
}

// A Debian host mounts tracefs at boot; a minimal one (a container or a microVM) may not have.
export async function ensureTracefs() {
  if (fs.existsSync(`${TRACING_DIR}/events`)) return;
  const mounted = spawn('mount', ['-t', 'tracefs', 'tracefs', TRACING_DIR], { stdio: 'ignore' });
  return new Promise<void>((resolve) => mounted.once('close', () => resolve()));
}
