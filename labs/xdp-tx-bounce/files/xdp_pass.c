// Lets every packet continue up the stack. The lab's setup attaches it to veth-r in red: on a veth
// pair, a frame that blue's program sends back with XDP_TX is pushed straight into veth-r's NAPI
// queue, and the kernel serves that queue for such frames only while veth-r has an XDP program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
