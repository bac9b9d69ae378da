// An XDP guard for gw-onprem's wan: from the internet, only the peer gateway's IKE (UDP 500) and
// ESP-in-UDP (UDP 4500) may reach the gateway; every other IPv4 packet is dropped before the
// kernel spends an sk_buff on it. ARP passes, or the gateways could not find each other's MAC.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// gw-cloud's public address, 198.51.100.1, as packets carry it (network byte order).
#define PEER_GATEWAY bpf_htonl(0xc6336401)
#define IKE_PORT 500
#define NAT_T_PORT 4500

// What the guard did, counted: index 0 the peer's IKE and ESP it let in, index 1 what it dropped.
// key_size and value_size rather than BTF types: `bpftool map dump` then needs no BTF lookup by id,
// which this sandbox may not do.
enum { LET_IN, DROPPED };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} guard_stats SEC(".maps");

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *counter = bpf_map_lookup_elem(&guard_stats, &what);
	if (counter)
		__sync_fetch_and_add(counter, 1);
	return verdict;
}

SEC("xdp")
int xdp_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return count(DROPPED, XDP_DROP);

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count(DROPPED, XDP_DROP);

	// TODO: let the peer gateway's IKE and ESP-in-UDP in, and nothing else.
	//   - the source address must be PEER_GATEWAY;
	//   - the protocol must be UDP (IPPROTO_UDP), and the UDP header must lie inside the packet:
	//     it starts ip->ihl * 4 bytes after the IP header's start (check it against data_end, or
	//     the verifier refuses the program);
	//   - the destination port (udp->dest, network byte order) must be IKE_PORT or NAT_T_PORT.
	// Return count(LET_IN, XDP_PASS) for those, count(DROPPED, XDP_DROP) for everything else.
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
