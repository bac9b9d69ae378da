import { z } from 'zod';
import { CounterSpecSchema, type CounterSpec } from './counters.ts';
import { TRACES, type TraceName } from './traces.ts';

// How a course author writes a lab. A lab is data: the grader, the page and the self-test all
// read the same definition, so nothing about a lab is written anywhere else.

// What a check's command left behind: its output and how it exited.
export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

// A check passes when `pass` returns true. It fails when `pass` returns false (and the learner
// reads `fail`) or a string (and the learner reads that string: say exactly what is wrong).
export type Verdict = boolean | string;

export interface Check {
  name: string;
  run: string;
  pass: (out: CommandOutput) => Verdict;
  fail?: string;
  timeoutMs?: number;
  // Checks that send traffic or take long are left out of the live re-checks while the learner types.
  live?: boolean;
}

export interface Exercise {
  id: string;
  title: string;
  task: string;
  checks: Check[];
  hint: string;
  solution: string;
  // Checks that already pass right after setup, by design, with the reason: the self-test accepts them.
  initiallyPassing?: Record<string, string>;
}

export const KERNEL_FEATURES = ['netns', 'veth', 'bridge', 'xdp', 'bpf', 'tracepoints', 'kprobes', 'nftables', 'tun', 'esp', 'tc-bpf'] as const;
export type KernelFeature = (typeof KERNEL_FEATURES)[number];


export interface Lab {
  id: string;
  title: string;
  requires: KernelFeature[];
  // Named network namespaces that get a terminal tab of their own; setup must create them.
  hosts?: string[];
  // Runs as root in a new sandbox, and again when a learner resumes on kept files: then the kernel
  // state is new but /root and /etc are the learner's, and LAB_RESUMING=1 is set so the setup can
  // leave a file the learner may have edited as it is (labs/vpc.ts writeFile does).
  setup?: string;
  // Whether labs/<id>/files/ is copied into /root before setup runs.
  files?: boolean;
  // What `lab trace` offers in this lab.
  traces?: TraceName[];
  // The kernel counters a <Counters> panel beside the lab shows live (labs/counters.ts).
  counters?: CounterSpec[];
  exercises: Exercise[];
}

export function defineLab(lab: Lab): Lab {
  return lab;
}

// Shell text for setup, solutions and checks, with the common indentation removed so it can be
// written indented inside the definition.
export function sh(strings: TemplateStringsArray, ...values: unknown[]) {
  const text = String.raw({ raw: strings }, ...values);
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.match(/^ */)![0].length));
  return lines.map((line) => line.slice(indent)).join('\n');
}

export class UnreadableOutput extends Error {}

// The command's standard output parsed as JSON (the `-j` of ip, bpftool, nft).
export function json<T = any>(out: CommandOutput): T {
  try {
    return JSON.parse(out.stdout) as T;
  } catch {
    throw new UnreadableOutput(`expected JSON, got ${JSON.stringify(out.stdout.slice(0, 120))}`);
  }
}

// The command exited with status 0.
export const ok = (out: CommandOutput) => out.exitCode === 0;

const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'use lower-case words joined by hyphens');
const fn = z.custom<(...args: any[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const CheckSchema = z.strictObject({
  name: z.string().min(1),
  run: z.string().min(1),
  pass: fn,
  fail: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(60_000).optional(),
  live: z.boolean().optional(),
});

const ExerciseSchema = z.strictObject({
  id,
  title: z.string().min(1),
  task: z.string().min(1),
  checks: z.array(CheckSchema).min(1),
  hint: z.string().min(1),
  solution: z.string().min(1),
  initiallyPassing: z.record(z.string(), z.string().min(1)).optional(),
});

export const LabSchema = z.strictObject({
  id,
  title: z.string().min(1),
  requires: z.array(z.enum(KERNEL_FEATURES)),
  hosts: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a host is a network namespace name: lower case, at most 15 characters')).optional(),
  setup: z.string().optional(),
  files: z.boolean().optional(),
  traces: z.array(z.enum(Object.keys(TRACES) as [TraceName, ...TraceName[]])).optional(),
  counters: z.array(CounterSpecSchema).min(1).optional(),
  exercises: z.array(ExerciseSchema).min(1),
});

// Validates a definition and names the file and field at fault, so a typo fails at build or
// start-up instead of in front of a learner.
export function validateLab(value: unknown, file: string): Lab {
  const parsed = LabSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(the lab)'}: ${issue.message}`);
    throw new Error(`${file}: invalid lab definition\n  ${problems.join('\n  ')}`);
  }
  const lab = parsed.data as Lab;
  const exerciseIds = new Set<string>();
  for (const [index, exercise] of lab.exercises.entries()) {
    if (exerciseIds.has(exercise.id)) throw new Error(`${file}: exercises.${index}.id: "${exercise.id}" is used twice`);
    exerciseIds.add(exercise.id);
    const names = new Set(exercise.checks.map((check) => check.name));
    for (const name of Object.keys(exercise.initiallyPassing ?? {})) {
      if (!names.has(name)) throw new Error(`${file}: exercises.${index}.initiallyPassing: no check is named "${name}"`);
    }
  }
  return lab;
}
