// Rewrite at tc: UDP datagrams that arrive for port 5000 leave this program addressed to 5001,
// with a UDP checksum that still adds up. Everything else goes on untouched.
//
// Attached to a clsact qdisc in direct-action mode, the value this program returns is the verdict
// itself: TC_ACT_OK lets the packet go on up the stack, TC_ACT_SHOT drops it.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define FROM_PORT 5000
#define TO_PORT 5001

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	// At tc ingress, as in XDP, data points at the Ethernet header.
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (ip->protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	// A fragment other than the first carries no UDP header, only more payload.
	if (ip->frag_off & bpf_htons(0x1fff))
		return TC_ACT_OK;

	// Where the UDP header starts, counted from the start of the packet (ihl counts 32-bit words).
	__u32 l4 = ETH_HLEN + ip->ihl * 4;
	struct udphdr *udp = data + l4;
	if ((void *)(udp + 1) > data_end)
		return TC_ACT_OK;

	// TODO 1: let every datagram that is not addressed to FROM_PORT through untouched
	//         (udp->dest is in network byte order).

	// TODO 2: update the UDP checksum for the new port:
	//           bpf_l4_csum_replace(skb, <offset of udp->check in the packet>, <old port>, <new port>, <flags>)
	//         The low bits of flags give the size of the field that changes (sizeof(__be16) for a port).
	//         Two other flags matter here; decide which a port rewrite needs:
	//           BPF_F_PSEUDO_HDR      the changed field is part of the pseudo-header (the IP addresses)
	//           BPF_F_MARK_MANGLED_0  a UDP checksum of 0 means "none": keep it 0 (and never produce 0)

	// TODO 3: write TO_PORT into the packet:
	//           bpf_skb_store_bytes(skb, <offset of udp->dest in the packet>, &new_port, sizeof(new_port), 0)
	//         (or assign udp->dest directly, before the helper call of TODO 2: after any helper that
	//         may change the packet, the verifier forgets that udp points inside it).

	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
