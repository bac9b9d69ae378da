// Answer pings from XDP: turn each IPv4 ICMP echo request into its echo reply in place, and send
// it back out of the device it came in on (XDP_TX). The parsing is done for you; the rewrite is yours.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/icmp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// The ICMP checksum covers the whole ICMP message, so changing one 16-bit word of it from `old` to
// `new` changes the checksum `check` in a way you can compute without reading the rest (RFC 1624,
// equation 3): check' = ~(~check + ~old + new), in ones' complement arithmetic, where a carry out
// of the top bit is added back in at the bottom. That arithmetic gives the same bytes in either
// byte order (RFC 1071, section 2), so pass the words exactly as they sit in the packet.
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32)new;

	sum = (sum & 0xffff) + (sum >> 16); // fold the carries back in...
	sum = (sum & 0xffff) + (sum >> 16); // ...twice, as the first fold can carry once more
	return ~sum;
}

SEC("xdp")
int xdp_bounce(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	// Every read must be proven to stay inside the packet, or the verifier refuses the program.
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	// IPv4 without options (ihl == 5 words of 4 bytes), carrying ICMP.
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;

	struct icmphdr *icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > data_end)
		return XDP_PASS;

	// TODO: answer only echo requests (icmp->type is ICMP_ECHO); pass every other ICMP message.

	// TODO: swap eth->h_dest and eth->h_source (ETH_ALEN bytes each), so the reply goes back to the sender's MAC.

	// TODO: swap ip->saddr and ip->daddr. (The IP header checksum needs no change: why?)

	// TODO: make it an echo reply (icmp->type = ICMP_ECHOREPLY) and fix icmp->checksum with csum_replace16().

	return XDP_PASS; // TODO: return instead the verdict that sends the frame back out of this device.
}

char LICENSE[] SEC("license") = "GPL";
