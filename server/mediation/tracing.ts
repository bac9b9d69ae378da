import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import type { Lab } from '../../labs/define-lab.ts';
import { DEFAULT_TRACE_SECONDS, MAX_TRACE_SECONDS, TRACES, type TraceName } from '../../labs/traces.ts';
import type { Engine, Sandbox } from '../engine/engine.ts';
import { FairSlots } from './fair-slots.ts';

// Tracing done by the host for a learner. Tracepoints and perf events are host-wide: a sandbox that
// could attach to them would see every other learner's packets and keystrokes, so a user-namespace
// sandbox gets none (the kernel refuses perf_event_open there). Instead, `lab trace <template>` asks
// the server, which runs the host's bpftrace with one of the programs below. The learner chooses a
// template and a duration, nothing else: no code of theirs runs on the host. Every template that
// follows packets keeps only those whose device (or receiving socket) lives in a network namespace
// owned by the learner's sandbox: every namespace a learner creates belongs to the sandbox's user
// namespace, so `…->nd_net.net->user_ns->ns.inum` names the sandbox (struct net in
// include/net/net_namespace.h, struct ns_common in include/linux/ns_common.h).

const ownerOfDevice = (device: string) => `${device}->nd_net.net->user_ns->ns.inum`;

// The bpftrace program behind each trace a lab may offer (labs/traces.ts says what each shows),
// given the inode of the sandbox's user namespace.
const PROGRAMS: Record<TraceName, (owner: number) => string> = {
  receive: (owner) => `
    tracepoint:net:netif_receive_skb
    /${ownerOfDevice('((struct sk_buff *)args->skbaddr)->dev')} == ${owner}/
    { @packets[str(args->name)] = count(); }`,
  napi: (owner) => `
    tracepoint:napi:napi_poll
    /${ownerOfDevice('((struct napi_struct *)args->napi)->dev')} == ${owner}/
    { @polls[str(args->dev_name)] = count(); @packets[str(args->dev_name)] = sum(args->work); @budget_used_up[str(args->dev_name)] = sum(args->work == args->budget); }`,
  // A packet dropped at a socket may have lost its device already: then its receiving socket says whose it is.
  drops: (owner) => `
    tracepoint:skb:kfree_skb {
      $skb = (struct sk_buff *)args->skbaddr;
      $owner = (uint64)0;
      if ($skb->dev != 0) { $owner = (uint64)${ownerOfDevice('$skb->dev')}; }
      else if (args->rx_sk != 0) { $owner = (uint64)((struct sock *)args->rx_sk)->__sk_common.skc_net.net->user_ns->ns.inum; }
      if ($owner == ${owner}) { @drops[args->reason] = count(); }
    }`,
  softirq: () => `tracepoint:irq:softirq_entry /args->vec == 3/ { @net_rx_softirqs[cpu] = count(); }`,
};

// A request the learner may not make, with what they may.
export class TraceRequestError extends Error {}

export interface TraceRequest {
  name: TraceName;
  seconds: number;
}

// Checks a learner's request (from `lab trace` or the page) against what the lab offers.
export function traceRequest(lab: Lab, name: string | undefined, secondsArgument: string | number | undefined): TraceRequest {
  const offered = lab.traces ?? [];
  if (offered.length === 0) throw new TraceRequestError('this lab traces nothing: the labs that use tracing offer it with lab trace.');
  const chosen = offered.find((candidate) => candidate === name);
  if (!chosen) {
    const menu = offered.map((offer) => `  ${offer}  ${TRACES[offer].summary} (${TRACES[offer].scope})`).join('\n');
    throw new TraceRequestError(`usage: lab trace <what> [seconds, 1-${MAX_TRACE_SECONDS}, default ${DEFAULT_TRACE_SECONDS}]\n${menu}`);
  }
  const seconds = secondsArgument === undefined ? DEFAULT_TRACE_SECONDS : Number(secondsArgument);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TRACE_SECONDS) {
    throw new TraceRequestError(`trace for a whole number of seconds from 1 to ${MAX_TRACE_SECONDS}, not "${secondsArgument}".`);
  }
  return { name: chosen, seconds };
}

const TRACING_DIR = '/sys/kernel/tracing';

// bpftrace prints "Attaching N probes..." before it attaches them, and (v0.17, Debian's) loses a
// SIGINT that arrives while it attaches: the trace then runs its whole time. BEGIN fires once every
// probe is attached, so its line is when tracing really starts.
const ATTACHED = 'wirelab: probes attached';
const RESEND_STOP_MS = 250;

// Runs the host's bpftrace for learners, a few at a time (each one compiles its program with LLVM:
// a second of CPU and ~100 MiB while it starts).
export class Tracer {
  private readonly slots: FairSlots;
  private dropReasons?: Map<string, string>;
  // The traces running for each sandbox, so that Stop (in the page or Ctrl+C in the terminal,
  // which come on connections of their own) can end them and still get their counts.
  private readonly runningBySandbox = new Map<string, Set<AbortController>>();

  constructor(maxConcurrent: number) {
    this.slots = new FairSlots(maxConcurrent);
  }

  // Traces a sandbox as asked, streaming the output line by line to `write`; resolves when it ends
  // (time is up, or `signal` aborted it). Slots are shared fairly between learners (the sandbox's
  // `learner` label), so one learner's several traces never keep another's waiting.
  async run(engine: Engine, sandbox: Pick<Sandbox, 'id' | 'labels'>, request: TraceRequest, write: (line: string) => void, signal: AbortSignal) {
    const sandboxId = sandbox.id;
    const owner = await engine.ownerNamespace(sandboxId);
    if (owner === null) throw new TraceRequestError('this server runs host-root sandboxes, where you can run bpftrace yourself.');
    // Filtering on the host's own user namespace would show the learner the whole machine's traffic.
    if (owner === fs.statSync('/proc/self/ns/user').ino) throw new Error('the sandbox\'s user namespace is the host\'s: refusing to trace');
    let release: () => void;
    try {
      release = await this.slots.acquire(sandbox.labels.learner ?? sandboxId, request.seconds * 1000, write, signal);
    } catch {
      return; // stopped while it waited
    }
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort(), { once: true });
    const ofSandbox = this.runningBySandbox.get(sandboxId) ?? new Set();
    this.runningBySandbox.set(sandboxId, ofSandbox.add(stop));
    try {
      if (signal.aborted) return;
      await this.trace(request, owner, write, stop.signal);
    } finally {
      ofSandbox.delete(stop);
      if (ofSandbox.size === 0) this.runningBySandbox.delete(sandboxId);
      release();
    }
  }

  // Ends a sandbox's traces early: each still prints what it counted so far.
  stop(sandboxId: string) {
    for (const trace of this.runningBySandbox.get(sandboxId) ?? []) trace.abort();
  }

  private async trace({ name, seconds }: TraceRequest, owner: number, write: (line: string) => void, signal: AbortSignal) {
    await ensureTracefs();
    const program = `BEGIN { printf("${ATTACHED}\\n"); }\n${PROGRAMS[name](owner)}\ninterval:s:${seconds} { exit(); }`;
    const bpftrace = spawn('bpftrace', ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    // A stop asked for while bpftrace still attaches would be lost: ask again until it ends.
    let resending: NodeJS.Timeout | undefined;
    const stop = () => {
      bpftrace.kill('SIGINT');
      resending = setInterval(() => bpftrace.kill('SIGINT'), RESEND_STOP_MS);
    };
    signal.addEventListener('abort', stop, { once: true });
    // Once bpftrace has ended, a later abort (the session ending) has nothing to stop and must not
    // start a resend that nothing would clear.
    bpftrace.once('close', () => {
      clearInterval(resending);
      signal.removeEventListener('abort', stop);
    });
    const reasons = this.dropReasonNames();
    let errors = '';
    let counted = false;
    bpftrace.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    for await (const line of readline.createInterface({ input: bpftrace.stdout })) {
      if (line.startsWith('Attaching ')) continue;
      if (line === ATTACHED) {
        write(`Tracing ${TRACES[name].summary} in ${TRACES[name].scope} for ${seconds} s (stopping it sooner prints the counts so far)...`);
        continue;
      }
      if (!line.trim()) continue;
      counted = true;
      write(line.replace(/^@drops\[(\d+)\]/, (_, reason: string) => `@drops[${reasons.get(reason) ?? reason}]`));
    }
    const code = await new Promise<number | null>((resolve) => (bpftrace.exitCode !== null ? resolve(bpftrace.exitCode) : bpftrace.once('close', resolve)));
    signal.removeEventListener('abort', stop);
    if (code !== 0 && !signal.aborted) {
      const reason = errors.split('\n').filter((line) => /ERROR/.test(line) && !/RLIMIT_MEMLOCK/.test(line)).join(' ') || `bpftrace exited with ${code}`;
      throw new Error(`the trace failed on the host: ${reason}`);
    }
    if (!counted) write('(nothing to count: none of these events happened in your sandbox while the trace ran)');
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
