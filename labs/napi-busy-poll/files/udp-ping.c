// The near end of a UDP ping-pong: sends one small datagram, waits for it to come back, and so
// on, then prints how long the round trips took.
//   udp-ping <ip> <port> [count=1000] [--busy-poll <microseconds>]
// Each reply is waited for at most 100 ms and the whole run at most 10 s, so it always ends.
// --busy-poll sets SO_BUSY_POLL on this end's socket: it has something to poll only if the replies
// come through a NAPI instance, which the last line of the report names.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void usage(const char *program) {
  fprintf(stderr, "usage: %s <ip> <port> [count] [--busy-poll <microseconds>]\n", program);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) usage(argv[0]);
  int count = 1000, busy_poll = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--busy-poll") == 0 && i + 1 < argc)
      busy_poll = atoi(argv[++i]);
    else if (argv[i][0] != '-')
      count = atoi(argv[i]);
    else
      usage(argv[0]);
  }
  if (count < 1 || count > 100000 || busy_poll < 0 || busy_poll > 1000) {
    fprintf(stderr, "count must be 1..100000 and the busy-poll time 0..1000 microseconds\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", argv[1]);
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (busy_poll && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &busy_poll, sizeof busy_poll) != 0) {
    perror("setsockopt SO_BUSY_POLL");
    return 1;
  }
  struct timeval patience = {.tv_usec = 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  // Connected, so that only the echo server's replies are read.
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("connect");
    return 1;
  }

  double *rtt = calloc(count, sizeof *rtt);
  int answered = 0, sent = 0;
  double deadline = now_us() + 10e6;
  char payload[64] = "wirelab ping-pong", reply[2048];
  for (; sent < count && now_us() < deadline; sent++) {
    double start = now_us();
    if (send(fd, payload, sizeof payload, 0) != sizeof payload) continue;
    if (recv(fd, reply, sizeof reply, 0) > 0) rtt[answered++] = now_us() - start;
  }

  unsigned int napi_id = 0;
  socklen_t id_length = sizeof napi_id;
  getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi_id, &id_length);
  printf("%d sent, %d answered", sent, answered);
  if (answered) {
    qsort(rtt, answered, sizeof *rtt, by_value);
    double sum = 0;
    for (int i = 0; i < answered; i++) sum += rtt[i];
    printf("; round trip in us: min %.0f, mean %.0f, median %.0f, 99th percentile %.0f",
           rtt[0], sum / answered, rtt[answered / 2], rtt[answered * 99 / 100]);
  }
  printf("\nreplies came through NAPI instance %u%s\n", napi_id, napi_id ? "" : " (0: none)");
  return answered ? 0 : 1;
}
