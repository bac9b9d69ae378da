// Sends a bounded burst of UDP datagrams as fast as it can, then stops.
//   udp-burst <ip> <port> [count=1000] [size=512]
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <ip> <port> [count] [size]\n", argv[0]);
    return 2;
  }
  int count = argc > 3 ? atoi(argv[3]) : 1000;
  int size = argc > 4 ? atoi(argv[4]) : 512;
  if (count < 1 || count > 100000 || size < 1 || size > 1472) {
    fprintf(stderr, "count must be 1..100000 and size 1..1472\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  char payload[1472];
  memset(payload, 'x', sizeof payload);
  int sent = 0;
  for (int i = 0; i < count; i++)
    if (sendto(fd, payload, size, 0, (struct sockaddr *)&to, sizeof to) == size) sent++;
  printf("sent %d datagrams of %d bytes to %s:%s\n", sent, size, argv[1], argv[2]);
  return 0;
}
