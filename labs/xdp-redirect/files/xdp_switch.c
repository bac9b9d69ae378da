// A two-port switch in XDP: whatever enters one port leaves by the other, from the driver's receive
// loop, before the switch's stack ever sees it. Which port leads to which is not in the code but in
// a devmap that you fill from userspace: key = the ifindex a frame came in on, value = the ifindex
// it must leave by.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// The keys are ifindexes used as array indexes, so the map needs more entries than the largest
// ifindex in the switch (ip -n switch link shows them: lo is 1, the ports come after).
// Declared with key_size/value_size, not BTF types: a devmap takes no BTF for its key and value
// (kernel/bpf/devmap.c), and `bpftool map dump` reads it as bytes.
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(key_size, sizeof(__u32));   // ifindex in
	__uint(value_size, sizeof(__u32)); // ifindex out
	__uint(max_entries, 32);
} ports SEC(".maps");

SEC("xdp")
int xdp_switch(struct xdp_md *ctx)
{
	// bpf_redirect_map(&ports, key, flags) looks key up in the devmap: it returns XDP_REDIRECT when
	// the key has an entry (the kernel then queues the frame for that device), and the low bits of
	// flags, an XDP action such as XDP_DROP, when it has none.
	return XDP_PASS; // TODO: redirect through ports instead, keyed by the port the frame came in on (ctx->ingress_ifindex).
}

char LICENSE[] SEC("license") = "GPL";
