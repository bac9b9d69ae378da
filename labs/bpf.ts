// What the labs that build BPF programs share: how the sandbox's clang compiles one, and how
// bpftool prints a counter kept in a map.

// -I for the multiarch headers (asm/types.h) that a BPF target does not find by itself.
export const COMPILE = 'clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu';

// A __u64 map value as `bpftool -j` prints it ("0x05", "0x00", …): least significant byte first on x86-64.
export const counterOf = (hex: string[]) => hex.map((byte) => parseInt(byte, 16)).reduceRight((sum, byte) => sum * 256 + byte, 0);
