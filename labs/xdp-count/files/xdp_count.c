// Count every IPv4 packet that arrives, by IP protocol. The map and the parsing are done for you;
// counting is yours.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// One counter per IP protocol number (the iphdr's protocol field: 1 ICMP, 6 TCP, 17 UDP), so 256
// slots. A per-CPU array keeps one copy of every slot for each CPU: a program only ever touches
// the copy of the CPU it runs on, so a plain `+= 1` is safe without atomic instructions, and
// userspace adds the copies up when it reads.
//
// key_size and value_size rather than __type(key, ...) and __type(value, ...): a map described
// with BTF types makes `bpftool map dump` fetch that BTF by id, which this sandbox may not do.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} proto_count SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS; // ARP, IPv6…: not counted

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	__u32 key = ip->protocol;

	// TODO: look up this protocol's counter (bpf_map_lookup_elem(&proto_count, &key)), and if the lookup found it (the verifier insists on the NULL check), add 1.

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
