// What the helpers the server runs as host root on a sandbox's behalf share: how they fail, how they
// open the namespaces of a sandbox's process, and how they make sure the process id they were given is the sandbox's init from start to end (it is in
// the sandbox's cgroup, and a pidfd shows it did not exit, and its number go to a host process,
// while its namespaces were opened).
//
// A helper may define HELPER_FAILED and HELPER_REFUSED (exit statuses) and HELPER_PREFIX (before
// every message) before including this file.
#ifndef SANDBOX_PROCESS_H
#define SANDBOX_PROCESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef HELPER_FAILED
#define HELPER_FAILED 1
#endif
#ifndef HELPER_REFUSED
#define HELPER_REFUSED 2
#endif
#ifndef HELPER_PREFIX
#define HELPER_PREFIX ""
#endif

static inline void fail(const char *what) {
  fprintf(stderr, HELPER_PREFIX "%s: %s\n", what, strerror(errno));
  exit(HELPER_FAILED);
}

static inline void refuse(const char *why) {
  fprintf(stderr, HELPER_PREFIX "%s\n", why);
  exit(HELPER_REFUSED);
}

static inline int plain_name(const char *name) {
  if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) return 0;
  return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-@") == strlen(name);
}

// The cgroup path every process of the sandbox is in (runc's cgroupsPath, server/engine/oci-spec.ts).
static inline void sandbox_cgroup(const char *sandbox_id, char *path, size_t size) {
  if (!plain_name(sandbox_id)) refuse("not a sandbox id");
  snprintf(path, size, "/wirelab/%s", sandbox_id);
}

static inline int open_namespace(long pid, const char *type) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, type);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path);
  return fd;
}

// Opens a pidfd on the sandbox's init, after checking it is in the sandbox's cgroup.
static inline int open_sandbox_init(const char *pid_argument, const char *sandbox_id, long *pid) {
  *pid = strtol(pid_argument, NULL, 10);
  if (*pid <= 0) refuse("not a process id");
  int pidfd = syscall(SYS_pidfd_open, *pid, 0);
  if (pidfd < 0) {
    if (errno == ESRCH) refuse("the sandbox is not running");
    fail("finding the sandbox's process");
  }
  char path[64], cgroups[8192], cgroup[128], wanted[160];
  snprintf(path, sizeof path, "/proc/%ld/cgroup", *pid);
  FILE *file = fopen(path, "r");
  if (!file) fail("reading the process's cgroups");
  size_t length = fread(cgroups, 1, sizeof cgroups - 1, file);
  cgroups[length] = '\0';
  fclose(file);
  sandbox_cgroup(sandbox_id, cgroup, sizeof cgroup);
  snprintf(wanted, sizeof wanted, ":%s\n", cgroup);
  if (!strstr(cgroups, wanted)) refuse("that process is not the sandbox's");
  return pidfd;
}

// Once everything the helper needs of the sandbox's init is open: it must still be the same process.
static inline void require_still_running(int pidfd) {
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) refuse("the sandbox is not running (it ended meanwhile)");
}

#endif
