// Writes one per-device sysfs attribute (rps_cpus, rps_flow_cnt, xps_cpus...) of a network device in
// one of a sandbox's network namespaces, on the learner's behalf.
//
// Those attributes check capable(CAP_NET_ADMIN), that is, in the host's initial user namespace, not
// the device's own (store_rps_map(), store_rps_dev_flow_table_cnt() and the xps_cpus store function in
// net/core/net-sysfs.c): root in a user-namespace sandbox cannot write them even for its own veth.
// The server decides what may be written (server/mediation/knobs.ts); this program makes sure the namespace it
// writes in belongs to the sandbox, whatever the sandbox has done to its own files:
//   - the namespace is opened through the sandbox's root with RESOLVE_IN_ROOT and no magic links, so a
//     symlink the learner plants in /run/netns cannot lead to one of the host's namespaces;
//   - its owning user namespace must be the sandbox's own (NS_GET_USERNS), or nothing is written;
//   - nothing from the sandbox's filesystem is run: a fresh sysfs is mounted in a private mount namespace;
//   - the process id is the sandbox's init from start to end: it is in the sandbox's cgroup, and a
//     pidfd shows it did not exit (and its number go to a host process) while its namespaces were opened.
//
//   netns-knob <sandbox init pid> <sandbox id> <namespace name, or "" for the sandbox's own> <device>/<attribute path> <value>
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox-process.h"

static int open_network_namespace(long pid, const char *name) {
  char path[64];
  if (!*name) {
    snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("opening the sandbox's network namespace");
    return fd;
  }
  if (!plain_name(name) || strlen(name) > 64) refuse("not a network namespace name");
  snprintf(path, sizeof path, "/proc/%ld/root", pid);
  int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("opening the sandbox's root");
  char relative[128];
  snprintf(relative, sizeof relative, "run/netns/%s", name);
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = syscall(SYS_openat2, root, relative, &how, sizeof how);
  if (fd < 0) {
    if (errno == ENOENT) refuse("there is no such network namespace in the sandbox");
    fail("opening the network namespace");
  }
  close(root);
  return fd;
}

static void require_owned_by_sandbox(int netns, long pid) {
  if (ioctl(netns, NS_GET_NSTYPE) != CLONE_NEWNET) refuse("that is not a network namespace");
  int owner = ioctl(netns, NS_GET_USERNS);
  if (owner < 0) fail("finding the namespace's owner");
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
  struct stat sandbox_user_ns, owner_user_ns;
  if (stat(path, &sandbox_user_ns) < 0 || fstat(owner, &owner_user_ns) < 0) fail("comparing user namespaces");
  if (sandbox_user_ns.st_ino != owner_user_ns.st_ino || sandbox_user_ns.st_dev != owner_user_ns.st_dev) {
    refuse("that network namespace does not belong to this sandbox");
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: netns-knob <sandbox pid> <sandbox id> <netns name or \"\"> <device>/<attribute path> <value>\n");
    return 2;
  }
  long pid;
  const char *namespace_name = argv[3], *attribute = argv[4], *value = argv[5];
  int pidfd = open_sandbox_init(argv[1], argv[2], &pid);
  for (const char *part = attribute; *part;) {
    size_t length = strcspn(part, "/");
    char component[256];
    if (length == 0 || length >= sizeof component) refuse("not an attribute path");
    memcpy(component, part, length);
    component[length] = '\0';
    if (!plain_name(component)) refuse("not an attribute path");
    part += length + (part[length] == '/');
  }

  int netns = open_network_namespace(pid, namespace_name);
  require_owned_by_sandbox(netns, pid);
  require_still_running(pidfd);
  if (setns(netns, CLONE_NEWNET) < 0) fail("entering the network namespace");
  // A sysfs mounted now shows the devices of the namespace this process is in.
  if (unshare(CLONE_NEWNS) < 0) fail("making a private mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("making mounts private");
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mounting sysfs");

  char path[512];
  snprintf(path, sizeof path, "/sys/class/net/%s", attribute);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) refuse("no such device or attribute in that namespace");
    fail("opening the attribute");
  }
  size_t length = strlen(value);
  if (write(fd, value, length) != (ssize_t)length) fail("the kernel refused the value");
  return 0;
}
