// The far end of a UDP ping-pong: every datagram that arrives is sent straight back.
//   udp-echo <port> [--busy-poll <microseconds>]
// With --busy-poll the socket gets SO_BUSY_POLL: when recvfrom() finds nothing queued, the
// kernel itself runs the NAPI poll of the device the socket's datagrams arrive through, for up
// to that many microseconds, before it puts the program to sleep (sk_busy_loop() in
// include/net/busy_poll.h).
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void usage(const char *program) {
  fprintf(stderr, "usage: %s <port> [--busy-poll <microseconds>]\n", program);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) usage(argv[0]);
  int port = atoi(argv[1]);
  int busy_poll = 0;
  if (argc == 4) {
    if (strcmp(argv[2], "--busy-poll") != 0) usage(argv[0]);
    busy_poll = atoi(argv[3]);
  }
  if (port < 1 || port > 65535 || busy_poll < 0 || busy_poll > 1000) {
    fprintf(stderr, "the port must be 1..65535 and the busy-poll time 0..1000 microseconds\n");
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  // Any process may set SO_BUSY_POLL on its own socket (sk_setsockopt() in net/core/sock.c asks
  // for no capability), so root in this sandbox can too.
  if (busy_poll && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &busy_poll, sizeof busy_poll) != 0) {
    perror("setsockopt SO_BUSY_POLL");
    return 1;
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    perror("bind");
    return 1;
  }
  if (busy_poll)
    printf("echoing UDP port %d, busy-polling for up to %d us when the queue is empty\n", port, busy_poll);
  else
    printf("echoing UDP port %d, sleeping whenever the queue is empty (no busy polling)\n", port);
  fflush(stdout);

  // Said again whenever it changes, so the log shows when the socket learns a NAPI instance.
  long reported = -1;
  char datagram[2048];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof peer;
    ssize_t length = recvfrom(fd, datagram, sizeof datagram, 0, (struct sockaddr *)&peer, &peer_length);
    if (length < 0) {
      perror("recvfrom");
      return 1;
    }
    sendto(fd, datagram, length, 0, (struct sockaddr *)&peer, peer_length);
    // An unconnected UDP socket sets its NAPI instance only once, from the first datagrams it
    // receives (sk_mark_napi_id_once() in __udp_queue_rcv_skb()): measured, datagrams that came
    // before the device had NAPI leave it with none for good, so start the server after that.
    unsigned int napi_id = 0;
    socklen_t id_length = sizeof napi_id;
    getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi_id, &id_length);
    if (napi_id == reported) continue;
    if (napi_id)
      printf("this socket now knows NAPI instance %u, from a datagram of %s: busy polling polls that one\n", napi_id, inet_ntoa(peer.sin_addr));
    else
      printf("this socket knows no NAPI instance (SO_INCOMING_NAPI_ID is 0), so busy polling has nothing to poll\n");
    fflush(stdout);
    reported = napi_id;
  }
}
