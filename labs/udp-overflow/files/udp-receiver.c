// A deliberately slow UDP receiver: it asks for a receive buffer of the given size, then reads
// one datagram every 200 microseconds, so a fast burst piles up in the socket's receive queue.
//   udp-receiver <port> <receive-buffer-bytes>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <port> <receive-buffer-bytes>\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  int wanted = atoi(argv[2]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  // SO_RCVBUFFORCE (root, CAP_NET_ADMIN) may go past net.core.rmem_max; SO_RCVBUF is capped by it.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof wanted) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof wanted);
  int granted;
  socklen_t length = sizeof granted;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    perror("bind");
    return 1;
  }
  // The kernel doubles the value asked for, to leave room for its own bookkeeping (socket(7)).
  printf("listening on UDP port %d with a receive buffer of %d bytes\n", port, granted);
  fflush(stdout);
  char datagram[65536];
  for (;;) {
    if (recv(fd, datagram, sizeof datagram, 0) < 0) {
      perror("recv");
      return 1;
    }
    usleep(200);
  }
}
