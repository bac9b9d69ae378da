// A file of its own, apart from define-lab.ts and its zod: the page's trace panel reads it too.

// What the server can trace for a learner (`lab trace <name>` in the terminal, or the page's trace
// panel; server/mediation/tracing.ts has the programs): a sandbox cannot attach to tracepoints itself, since
// they see the whole machine. Each one keeps to the learner's own namespaces, but for the softirq:
// a softirq serves every namespace at once, and /proc/softirqs already shows its counts to everyone.
export const TRACES = {
  receive: { summary: 'packets entering the stack (net:netif_receive_skb), counted by device', scope: 'your sandbox' },
  napi: { summary: 'NAPI polls (napi:napi_poll) by device: how many, and the packets they processed', scope: 'your sandbox' },
  drops: { summary: 'packets freed as drops (skb:kfree_skb), counted by drop reason', scope: 'your sandbox' },
  softirq: { summary: 'NET_RX softirq runs (irq:softirq_entry, vector 3), counted by CPU', scope: 'the whole machine' },
} as const;
export type TraceName = keyof typeof TRACES;
export const MAX_TRACE_SECONDS = 60;
export const DEFAULT_TRACE_SECONDS = 10;
