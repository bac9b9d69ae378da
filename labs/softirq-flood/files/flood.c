// A bounded UDP flood: sends datagrams to <ip>:<port> as fast as one socket can, and stops after
// <seconds> seconds (at most 10) or 20 million attempts, whichever comes first. It never waits for
// room in the socket's send buffer (MSG_DONTWAIT), so the time bound holds even when the packets
// cannot leave (no ARP answer for <ip>, say): it then counts only the datagrams the kernel took.
//   flood <ip> <port> <seconds> [size=64]
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_SECONDS 10
#define MAX_ATTEMPTS 20000000L

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <ip> <port> <seconds> [size]\n", argv[0]);
    return 2;
  }
  double seconds = atof(argv[3]);
  int size = argc > 4 ? atoi(argv[4]) : 64;
  if (seconds <= 0 || seconds > MAX_SECONDS || size < 1 || size > 1472) {
    fprintf(stderr, "seconds must be in (0, %d] and size in 1..1472\n", MAX_SECONDS);
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  char payload[1472];
  memset(payload, 'x', sizeof payload);
  long sent = 0;
  double start = now(), end = start + seconds;
  // Look at the clock every 256 attempts: cheap, and well under a millisecond late.
  for (long i = 0; i < MAX_ATTEMPTS; i++) {
    if (i % 256 == 0 && now() >= end) break;
    if (sendto(fd, payload, size, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to) == size) sent++;
  }
  printf("sent %ld datagrams of %d bytes to %s:%s in %.2f s\n", sent, size, argv[1], argv[2], now() - start);
  return 0;
}
