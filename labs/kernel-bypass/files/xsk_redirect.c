// The kernel half of an AF_XDP forwarder: an XDP program that hands every frame arriving on a port
// to the AF_XDP socket bound to that port, through an xskmap that xsk_fwd fills when it starts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// key = the ifindex of a port, value = the AF_XDP socket bound to that port (its receive queue 0).
// Declared with key_size/value_size, not BTF types, like the devmap of xdp-redirect: an xskmap takes
// no BTF for its key and value.
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 32);
} xsks SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	// bpf_redirect_map() on an xskmap works as on a devmap: XDP_REDIRECT when the key has a socket
	// (the kernel then copies the frame into that socket's UMEM and puts a descriptor on its RX
	// ring), the action in the low bits of the flags when it has none.
	return XDP_PASS; // TODO: redirect through xsks, keyed by the port the frame came in on (ctx->ingress_ifindex).
}

char LICENSE[] SEC("license") = "GPL";
