// Reads a BPF verifier log the way an experienced eBPF programmer does: find the complaint (the
// last lines before "processed N insns"), the instruction it is about, and the C source line clang
// put above that instruction (objects built with -g), then say in two sentences what the verifier
// could not prove and the usual fix. Used by `lab explain` in the terminal and by the checks of
// labs whose programs may fail to load. The messages are kernel/bpf/verifier.c's own; every
// pattern below was seen on this course's kernel (test/labs/verifier-log.test.ts holds the logs).

import { COMPILE } from './bpf.ts';

export interface SourceLine {
  file: string;
  line: number;
  code: string;
}

export interface VerifierExplanation {
  // The verifier's own words.
  complaint: string;
  // The instruction it refused, as the log prints it ("11: (71) r1 = *(u8 *)(r1 +23)").
  instruction?: string;
  source?: SourceLine;
  // What the verifier could not prove, and what usually fixes it; absent for a message the table
  // does not know (the complaint and the source line are still shown, never hidden).
  explanation?: string;
  fix?: string;
}

interface KnownComplaint {
  pattern: RegExp;
  explain: (match: RegExpMatchArray) => { explanation: string; fix: string };
}

const KNOWN: KnownComplaint[] = [
  {
    pattern: /invalid access to packet, off=(-?\d+) size=(\d+), R(\d+)\(id=\d+,off=(-?\d+),r=(\d+)\)/,
    explain: ([, off, size, , , proven]) => ({
      explanation: `The program reads ${size} byte${size === '1' ? '' : 's'} at offset ${off} from a packet pointer, but ${proven === '0' ? 'no comparison with data_end has proven any byte there to be inside the packet' : `comparisons with data_end have proven only ${proven} bytes there to be inside the packet`}.`,
      fix: 'Before reading a header, check that its end is within the packet and bail out if not, on the same pointer you then read through: `if ((void *)(ip + 1) > data_end) return XDP_PASS;`',
    }),
  },
  {
    pattern: /R(\d+) invalid mem access '(\w*or_null)'/,
    explain: ([, register]) => ({
      explanation: `R${register} may be NULL here: it holds the result of a call that can fail, most often bpf_map_lookup_elem(), which returns NULL when the key is not in the map.`,
      fix: 'Test the pointer before using it: `value = bpf_map_lookup_elem(&map, &key); if (!value) return XDP_PASS;`',
    }),
  },
  {
    pattern: /math between pkt pointer and register with unbounded (?:min|max) value is not allowed/,
    explain: () => ({
      explanation: 'A value the verifier knows nothing about (a __u64 read from a map value or from a 64-bit field, or one compared only from one side) is added to a packet pointer, so it cannot tell where the result may point. A header length such as ip->ihl * 4 is not the cause: the verifier knows it lies between 0 and 60.',
      fix: 'Bound the offset from both sides before the addition: an unsigned comparison does (`__u64 off = *value; if (off > 1500) return XDP_PASS;`), a signed `if (off > 60)` alone does not. Then check the resulting pointer against data_end before reading through it.',
    }),
  },
  {
    pattern: /back-edge from insn (\d+) to (\d+)|infinite loop detected/,
    explain: () => ({
      explanation: 'The program contains a loop whose end the verifier cannot prove.',
      fix: 'Give the loop a constant upper bound (`for (int i = 0; i < 8; i++)`), or use bpf_loop() for longer iterations.',
    }),
  },
  {
    pattern: /unreachable insn (\d+)/,
    explain: ([, insn]) => ({
      explanation: `Instruction ${insn} can never run, and the verifier refuses dead code rather than guess what was meant.`,
      fix: 'Look for code after an unconditional return or jump; rebuilding with -O2 usually removes it.',
    }),
  },
  {
    pattern: /BPF program is too large/,
    explain: () => ({
      explanation: 'The verifier walked a million instructions without reaching the end: a loop bounded by a value read from the packet, or simply a very large bound, makes it explore every possible iteration.',
      fix: 'Bound the loop by a small constant (and break out early), or move the iteration into bpf_loop().',
    }),
  },
  {
    pattern: /invalid (?:indirect |variable-offset )?(?:read|write) (?:from|to) stack|invalid stack off=/,
    explain: () => ({
      explanation: 'The program reads stack memory it never wrote, or reaches outside its 512-byte stack.',
      fix: 'Initialise a variable (a key struct, say) fully before passing it to a helper, for example with `= {}` or __builtin_memset.',
    }),
  },
  {
    pattern: /cannot call GPL-restricted function from non-GPL compatible program/,
    explain: () => ({
      explanation: 'The program calls a helper that only GPL-compatible programs may use.',
      fix: 'Declare the licence: `char LICENSE[] SEC("license") = "GPL";`',
    }),
  },
  {
    pattern: /program of this type cannot use helper (\w+)#\d+|unknown func (\w+)#\d+/,
    explain: (match) => ({
      explanation: `${match[1] ?? match[2]} is not available to this program type (or, in this course's sandbox, to this token).`,
      fix: 'Use a helper the hook offers; include/uapi/linux/bpf.h documents each helper and the program types that may call it.',
    }),
  },
  {
    pattern: /Unreleased reference id=\d+/,
    explain: () => ({
      explanation: 'Something the program obtained from a helper (a ring-buffer reservation, a socket from a lookup) is not released on every path to the exit.',
      fix: 'Submit or discard every bpf_ringbuf_reserve(), release every bpf_sk_lookup_*() result, on every path, including early returns.',
    }),
  },
  {
    pattern: /invalid bpf_context access off=(\d+) size=(\d+)/,
    explain: ([, off, size]) => ({
      explanation: `The program accesses ${size} bytes at offset ${off} of its context (struct xdp_md, struct __sk_buff), a field this program type may not read or write that way.`,
      fix: 'Use only the context fields the hook allows (most are read-only; write through helpers instead), with their declared sizes.',
    }),
  },
  {
    pattern: /R(\d+) !read_ok/,
    explain: ([, register]) => ({
      explanation: `R${register} is read before anything was written to it: a variable is used uninitialised on some path.`,
      fix: 'Give the variable a value on every path before it is used.',
    }),
  },
  {
    pattern: /invalid access to map value, value_size=(\d+) off=(-?\d+) size=(\d+)/,
    explain: ([, valueSize, off, size]) => ({
      explanation: `The program accesses ${size} bytes at offset ${off} of a map value that is only ${valueSize} bytes long.`,
      fix: 'Check the index against the size of the value (or the array) before using it.',
    }),
  },
];

const INSTRUCTION = /^\d+: \(/;
const SOURCE = /^; (.*) @ (\S+):(\d+)$/;

export function explainVerifierLog(output: string): VerifierExplanation | null {
  const begin = output.indexOf('-- BEGIN PROG LOAD LOG --');
  const end = output.indexOf('-- END PROG LOAD LOG --');
  const log = begin >= 0 ? output.slice(begin, end >= 0 ? end : undefined) : output;
  const lines = log.split('\n').map((line) => line.replace(/^libbpf: /, '').trimEnd());
  const processed = lines.findIndex((line) => /^processed \d+ insns/.test(line));
  // Output with neither marker is some other failure (a missing file, a pin refused), not the verifier's.
  if (begin < 0 && processed < 0) return null;
  const last = processed >= 0 ? processed : lines.length;

  const complaint: string[] = [];
  let cursor = last - 1;
  // The complexity limit is printed at the end of the last instruction's line, not on a line of its own.
  const appended = lines[cursor]?.match(/^(\d+: \(.*?) (BPF program is too large\..*)$/);
  if (appended) {
    lines[cursor] = appended[1];
    complaint.push(appended[2]);
  } else {
    for (; cursor >= 0; cursor--) {
      const line = lines[cursor];
      if (!line || /BEGIN PROG LOAD LOG/.test(line)) continue;
      if (INSTRUCTION.test(line) || SOURCE.test(line)) break;
      complaint.unshift(line);
    }
  }
  if (complaint.length === 0) return null;

  const instruction = cursor >= 0 && INSTRUCTION.test(lines[cursor]) ? lines[cursor].replace(/\s+;.*$/, '') : undefined;
  let source: SourceLine | undefined;
  for (let at = cursor; at >= 0; at--) {
    const match = SOURCE.exec(lines[at]);
    if (match) {
      source = { code: match[1].trim(), file: match[2], line: Number(match[3]) };
      break;
    }
  }

  const text = complaint.join('\n');
  for (const known of KNOWN) {
    const match = text.match(known.pattern);
    if (match) return { complaint: text, instruction, source, ...known.explain(match) };
  }
  return { complaint: text, instruction, source };
}

// The explanation as a learner reads it, in the terminal or under a check.
export function describeExplanation(explanation: VerifierExplanation) {
  const where = explanation.source ? `${explanation.source.file}:${explanation.source.line}: ${explanation.source.code}` : explanation.instruction;
  return [
    `The verifier refused the program${where ? ` at ${where}` : ''}:`,
    `  ${explanation.complaint.split('\n').join('\n  ')}`,
    ...(explanation.explanation ? [explanation.explanation, `Fix: ${explanation.fix}`] : ['(This message is not in the course\'s table: kernel/bpf/verifier.c prints it; search for its text there.)']),
  ].join('\n');
}

// A shell script that compiles (for a .c file) and loads an object in a sandbox as a learner would
// (libbpf loads every program in it; bpftool pins the first), and removes the pin again: its output
// is what explainVerifierLog() reads. Exits 0 when the verifier accepts it, 3 when clang fails.
// Run as: bash -c "$VERIFIER_LOAD" load <file>.
export const VERIFIER_LOAD = `
  case "$1" in
    *.c) object=/tmp/verifier-load.o
         ${COMPILE} -c "$1" -o "$object" 2>&1 || exit 3 ;;
    *) object=$1 ;;
  esac
  # (a bpffs refuses names with a dot in them)
  rm -f /run/bpf/verifier_load
  bpftool prog load "$object" /run/bpf/verifier_load 2>&1
  status=$?
  rm -f /run/bpf/verifier_load
  exit $status`;
