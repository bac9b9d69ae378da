// Drop every IPv4 packet whose source address is in the map `blocked`; let everything else pass.
// The program never changes: what it blocks is decided from userspace, by writing to the map.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// Key: an IPv4 source address exactly as the packet carries it, in network byte order (most
// significant byte first), so its four bytes are the address's four numbers in the order you
// write them. Value: how many packets from that address were dropped.
//
// key_size and value_size rather than __type(key, ...) and __type(value, ...): a map described
// with BTF types makes `bpftool map dump` fetch that BTF by id, which this sandbox may not do.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} blocked SEC(".maps");

SEC("xdp")
int xdp_blocklist(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS; // ARP, IPv6…: never blocked

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	__u32 source = ip->saddr; // still in network byte order: no bpf_ntohl()
	__u64 *dropped = bpf_map_lookup_elem(&blocked, &source);
	if (!dropped)
		return XDP_PASS;

	// A hash map's value is one copy shared by every CPU, so two CPUs may add at once: an atomic
	// add keeps the count exact (a per-CPU map would not need it).
	__sync_fetch_and_add(dropped, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
