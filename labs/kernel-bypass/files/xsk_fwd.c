// The userspace half of an AF_XDP forwarder: whatever arrives on one port leaves by the other.
//   xsk_fwd PORT_A PORT_B [XSKMAP]     run it in the namespace that holds both ports
// For each port it registers a UMEM (packet memory shared with the kernel), binds an AF_XDP socket
// to the port's receive queue 0 in copy mode, and writes the socket into the pinned xskmap
// (/run/bpf/xsk/xsks unless XSKMAP says otherwise) under the port's ifindex, where xsk_redirect.c
// looks it up. Then it waits in poll() and moves frames from one port's RX ring to the other's TX
// ring. Build: gcc -O2 -Wall xsk_fwd.c -o xsk_fwd -lxdp -lbpf
#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <xdp/xsk.h>

// A UMEM is pinned memory, charged to RLIMIT_MEMLOCK (8 MiB here, `ulimit -l`) of the host user the
// sandbox's root is, which every sandbox on the machine shares: keep it small. 256 frames of 2 KiB
// per port, 512 KiB: half of them wait in the fill ring for frames to receive, half carry frames
// to send.
#define FRAMES 256
#define FRAME_SIZE 2048
#define RX_FRAMES (FRAMES / 2)
#define RING_SIZE 256
#define BATCH 64

struct port {
	const char *name;
	__u32 ifindex;
	void *memory;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill;  // frames we give the kernel to receive into
	struct xsk_ring_cons comp;  // frames the kernel has finished sending
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;    // frames received
	struct xsk_ring_prod tx;    // frames to send
	__u64 free_frames[FRAMES - RX_FRAMES];  // our own frames for sending, not in any ring
	__u32 n_free;
	unsigned long received, sent, dropped;
};

static volatile sig_atomic_t stop;

static void on_signal(int signal)
{
	(void)signal;
	stop = 1;
}

static void die(const char *what, int error)
{
	fprintf(stderr, "xsk_fwd: %s: %s\n", what, strerror(error));
	exit(1);
}

static void open_port(struct port *port, const char *name, int xskmap)
{
	port->name = name;
	port->ifindex = if_nametoindex(name);
	if (!port->ifindex)
		die(name, errno);

	port->memory = mmap(NULL, FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (port->memory == MAP_FAILED)
		die("mmap", errno);
	struct xsk_umem_config umem_config = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
	};
	int err = xsk_umem__create(&port->umem, port->memory, FRAMES * FRAME_SIZE, &port->fill, &port->comp, &umem_config);
	if (err == -ENOBUFS)
		die("registering a UMEM (the pinned memory of every sandbox on this machine together is over `ulimit -l`: try again in a moment)", -err);
	if (err)
		die("registering a UMEM", -err);

	// XDP_COPY: a veth has no zero-copy mode, the kernel copies each frame into the UMEM.
	// INHIBIT_PROG_LOAD: the XDP program is ours (xsk_redirect.c), not libxdp's default one.
	struct xsk_socket_config socket_config = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	err = xsk_socket__create(&port->xsk, name, 0, port->umem, &port->rx, &port->tx, &socket_config);
	if (err == -EBUSY)
		die("binding an AF_XDP socket (another one holds the queue: an xsk_fwd still running, or one just stopped that the kernel is still releasing, for half a second)", -err);
	if (err)
		die("binding an AF_XDP socket", -err);

	// The first RX_FRAMES frames go to the fill ring, for the kernel to receive into; the rest are ours to send from.
	__u32 index;
	if (xsk_ring_prod__reserve(&port->fill, RX_FRAMES, &index) != RX_FRAMES)
		die("filling the fill ring", ENOSPC);
	for (__u32 i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&port->fill, index + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&port->fill, RX_FRAMES);
	for (__u32 i = RX_FRAMES; i < FRAMES; i++)
		port->free_frames[port->n_free++] = (__u64)i * FRAME_SIZE;

	int fd = xsk_socket__fd(port->xsk);
	if (bpf_map_update_elem(xskmap, &port->ifindex, &fd, BPF_ANY))
		die("writing the socket into the xskmap", errno);
}

// Frames `to` has finished sending come back on its completion ring: ours to send from again.
static void reclaim_sent(struct port *to)
{
	__u32 index;
	__u32 done = xsk_ring_cons__peek(&to->comp, RING_SIZE, &index);
	for (__u32 i = 0; i < done; i++)
		to->free_frames[to->n_free++] = *xsk_ring_cons__comp_addr(&to->comp, index + i);
	xsk_ring_cons__release(&to->comp, done);
}

// Moves what `from` received onto `to`'s TX ring (a copy from one UMEM to the other), and gives
// `from`'s frames back to its fill ring.
static void forward(struct port *from, struct port *to)
{
	__u32 rx_index, tx_index = 0, fill_index = 0;
	__u32 received = xsk_ring_cons__peek(&from->rx, BATCH, &rx_index);
	if (!received)
		return;
	reclaim_sent(to);
	__u32 sending = received < to->n_free ? received : to->n_free;
	if (sending)
		sending = xsk_ring_prod__reserve(&to->tx, sending, &tx_index);
	// Every frame received goes back to the fill ring, which has room for all of them.
	xsk_ring_prod__reserve(&from->fill, received, &fill_index);

	for (__u32 i = 0; i < received; i++) {
		const struct xdp_desc *in = xsk_ring_cons__rx_desc(&from->rx, rx_index + i);
		if (i < sending) {
			struct xdp_desc *out = xsk_ring_prod__tx_desc(&to->tx, tx_index + i);
			out->addr = to->free_frames[--to->n_free];
			out->len = in->len;
			memcpy(xsk_umem__get_data(to->memory, out->addr), xsk_umem__get_data(from->memory, in->addr), in->len);
		}
		*xsk_ring_prod__fill_addr(&from->fill, fill_index + i) = xsk_umem__extract_addr(in->addr);
	}
	xsk_ring_prod__submit(&to->tx, sending);
	xsk_ring_cons__release(&from->rx, received);
	xsk_ring_prod__submit(&from->fill, received);
	from->received += received;
	to->sent += sending;
	from->dropped += received - sending;

	// In copy mode the kernel sends only when asked, up to 32 frames a call (EAGAIN: more are waiting).
	for (int tries = 0; tries < 16 && xsk_ring_prod__needs_wakeup(&to->tx); tries++) {
		if (sendto(xsk_socket__fd(to->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || (errno != EAGAIN && errno != EBUSY))
			break;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: xsk_fwd PORT_A PORT_B [XSKMAP]   (the xskmap defaults to /run/bpf/xsk/xsks)\n");
		return 2;
	}
	const char *map_path = argc > 3 ? argv[3] : "/run/bpf/xsk/xsks";
	int xskmap = bpf_obj_get(map_path);
	if (xskmap < 0)
		die(map_path, errno);

	struct port ports[2] = {0};
	open_port(&ports[0], argv[1], xskmap);
	open_port(&ports[1], argv[2], xskmap);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("xsk_fwd: forwarding between %s (ifindex %u) and %s (ifindex %u)\n", ports[0].name, ports[0].ifindex, ports[1].name, ports[1].ifindex);
	fflush(stdout);

	struct pollfd fds[2] = {
		{ .fd = xsk_socket__fd(ports[0].xsk), .events = POLLIN },
		{ .fd = xsk_socket__fd(ports[1].xsk), .events = POLLIN },
	};
	time_t last_report = time(NULL);
	unsigned long reported = 0;
	while (!stop) {
		// Unlike a DPDK poll-mode driver, sleep until a frame arrives: an idle forwarder costs no CPU.
		if (poll(fds, 2, 1000) < 0 && errno != EINTR)
			die("poll", errno);
		forward(&ports[0], &ports[1]);
		forward(&ports[1], &ports[0]);

		unsigned long total = ports[0].received + ports[1].received;
		if (total != reported && time(NULL) != last_report) {
			for (int i = 0; i < 2; i++)
				printf("%s: received %lu, sent %lu, dropped %lu\n", ports[i].name, ports[i].received, ports[i].sent, ports[i].dropped);
			fflush(stdout);
			reported = total;
			last_report = time(NULL);
		}
	}
	for (int i = 0; i < 2; i++) {
		printf("%s: received %lu, sent %lu, dropped %lu\n", ports[i].name, ports[i].received, ports[i].sent, ports[i].dropped);
		xsk_socket__delete(ports[i].xsk);
		xsk_umem__delete(ports[i].umem);
	}
	return 0;
}
