// xdp_guard: drop every UDP datagram sent to port 9999, and count, per source address, how many
// were dropped.
//
// It compiles. The kernel's verifier refuses to load it, for two reasons, one after the other:
// load it, read what the verifier says, fix the C, and load it again.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BLOCKED_PORT 9999

// Dropped datagrams per IPv4 source address (the key, in network byte order, as in the packet).
// Pinned by name: once loaded, it stays at /run/bpf/tc/globals/dropped, where
// `bpftool map dump pinned /run/bpf/tc/globals/dropped` reads it. (Declared with key_size and
// value_size rather than __type(): bpftool cannot fetch a map's BTF by id in this sandbox, and
// then refuses to dump it.)
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dropped SEC(".maps");

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (ip->protocol != IPPROTO_UDP)
		return XDP_PASS;

	// The UDP header follows the IP header, whose length ip->ihl counts in 32-bit words.
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if (udp->dest != bpf_htons(BLOCKED_PORT))
		return XDP_PASS;

	// Count the drop: give this source an entry at 0 if it has none yet, then add one to it.
	__u32 source = ip->saddr;
	__u64 zero = 0;
	bpf_map_update_elem(&dropped, &source, &zero, BPF_NOEXIST);
	__u64 *count = bpf_map_lookup_elem(&dropped, &source);
	__sync_fetch_and_add(count, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
