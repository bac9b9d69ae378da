// An OCI createRuntime hook that gives a user-namespace sandbox a bpffs of its own, with BPF token
// delegation (kernel >= 6.9), so libbpf, ip, tc and bpftool inside can load XDP and tc programs without
// any capability in the host's user namespace.
//
// No OCI runtime does this yet, and it needs both sides: the bpffs must be created (fsopen) by a process
// inside the sandbox's user namespace, so that tokens can be made from it there, while the delegate_*
// options may only be set by a process with CAP_SYS_ADMIN in the host's user namespace (bpf_parse_param()
// in kernel/bpf/inode.c). So this hook, run by runc as host root before the sandbox's first process
// starts, forks: the child joins the sandbox's user and mount namespaces and opens the filesystem
// context; the parent configures and creates it and hands the mount back; the child attaches it inside
// the sandbox at /run/bpf (which `ip netns exec` cannot hide) and binds it over /sys/fs/bpf.
// The kernel's tools/testing/selftests/bpf/prog_tests/token.c shows the same sequence.
//
//   bpffs-hook <rootfs> delegate_cmds=... delegate_maps=... delegate_progs=... delegate_attachs=...
// reads the container state (JSON with "pid") on standard input, as every OCI hook does.
// On a kernel without BPF tokens (before 6.9, like Debian 12's own 6.1) it mounts nothing and
// succeeds: the sandbox then simply has no BPF, and the labs that need it say so on their page.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#define HELPER_PREFIX "bpffs-hook: "
#include "sandbox-process.h"

#define BPF_FS_MAGIC 0xcafe4a11

// One byte says what follows; with it, optionally, one file descriptor (SCM_RIGHTS).
enum { ALREADY_MOUNTED = 'A', NO_TOKENS = 'N', CONTEXT = 'C', MOUNT = 'M' };

static void send_message(int channel, char kind, int fd) {
  struct iovec iov = {.iov_base = &kind, .iov_len = 1};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    message.msg_control = control.buf;
    message.msg_controllen = sizeof control.buf;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
  }
  if (sendmsg(channel, &message, 0) != 1) fail("passing a message to the other side");
}

static char receive_message(int channel, int *fd) {
  char kind;
  struct iovec iov = {.iov_base = &kind, .iov_len = 1};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  if (recvmsg(channel, &message, 0) != 1) {
    fprintf(stderr, "bpffs-hook: the other side ended without answering\n");
    exit(1);
  }
  struct cmsghdr *header = CMSG_FIRSTHDR(&message);
  *fd = -1;
  if (header && header->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(header), sizeof(int));
  return kind;
}

static long container_pid(void) {
  static char state[64 * 1024];
  size_t length = fread(state, 1, sizeof state - 1, stdin);
  state[length] = '\0';
  const char *field = strstr(state, "\"pid\":");
  long pid = field ? strtol(field + strlen("\"pid\":"), NULL, 10) : 0;
  if (pid <= 0) {
    fprintf(stderr, "bpffs-hook: the container state on standard input has no pid\n");
    exit(1);
  }
  return pid;
}

// Inside the sandbox's namespaces, as its root: open the filesystem context, then attach what the host made of it.
static void sandbox_side(int channel, long pid, const char *rootfs) {
  int user_ns = open_namespace(pid, "user");
  int mount_ns = open_namespace(pid, "mnt");
  if (setns(user_ns, CLONE_NEWUSER) < 0) fail("joining the sandbox's user namespace");
  if (setns(mount_ns, CLONE_NEWNS) < 0) fail("joining the sandbox's mount namespace");
  // Without becoming the sandbox's root (a uid mapped in its namespace), mkdir in its /run fails with EOVERFLOW.
  if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) fail("becoming the sandbox's root");

  char run_bpf[4096], sys_fs_bpf[4096];
  snprintf(run_bpf, sizeof run_bpf, "%s/run/bpf", rootfs);
  snprintf(sys_fs_bpf, sizeof sys_fs_bpf, "%s/sys/fs/bpf", rootfs);
  if (mkdir(run_bpf, 0700) < 0 && errno != EEXIST) fail(run_bpf);
  // runc may run the hook again for the same sandbox: a second bpffs stacked on the first would hide its pins.
  struct statfs existing;
  if (statfs(run_bpf, &existing) == 0 && existing.f_type == BPF_FS_MAGIC) {
    send_message(channel, ALREADY_MOUNTED, -1);
    exit(0);
  }
  // Before 6.9 a bpffs cannot be made from a user namespace at all.
  int context = fsopen("bpf", FSOPEN_CLOEXEC);
  if (context < 0 && errno == EPERM) {
    send_message(channel, NO_TOKENS, -1);
    exit(0);
  }
  if (context < 0) fail("fsopen(\"bpf\") in the sandbox");
  send_message(channel, CONTEXT, context);
  int mount_fd;
  char answer = receive_message(channel, &mount_fd);
  if (answer == NO_TOKENS) exit(0);
  if (answer != MOUNT || mount_fd < 0) exit(1);
  if (move_mount(mount_fd, "", AT_FDCWD, run_bpf, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail("attaching the bpffs at /run/bpf");
  if (mount(run_bpf, sys_fs_bpf, NULL, MS_BIND, NULL) < 0) fail("binding the bpffs over /sys/fs/bpf");
  exit(0);
}

// On the host, as host root: set what the sandbox may do with BPF, create the filesystem and mount it.
static void host_side(int channel, int argc, char **argv) {
  int context;
  char kind = receive_message(channel, &context);
  if (kind == ALREADY_MOUNTED) return;
  if (kind == NO_TOKENS) {
    fprintf(stderr, "bpffs-hook: this kernel cannot delegate BPF to a user namespace (it needs 6.9 or later): the sandbox gets no BPF\n");
    return;
  }
  if (kind != CONTEXT || context < 0) exit(1);
  for (int i = 2; i < argc; i++) {
    char *option = strdup(argv[i]);
    char *value = strchr(option, '=');
    if (!value || strncmp(option, "delegate_", 9) != 0) {
      fprintf(stderr, "bpffs-hook: expected delegate_<kind>=<list>, got %s\n", argv[i]);
      exit(1);
    }
    *value++ = '\0';
    if (fsconfig(context, FSCONFIG_SET_STRING, option, value, 0) < 0) {
      // A bpffs without delegate_* options: a kernel that knows no tokens.
      if (errno != EINVAL || strcmp(option, "delegate_cmds") != 0) fail(argv[i]);
      fprintf(stderr, "bpffs-hook: this kernel's bpffs has no %s (BPF tokens need 6.9 or later): the sandbox gets no BPF\n", option);
      send_message(channel, NO_TOKENS, -1);
      return;
    }
    free(option);
  }
  if (fsconfig(context, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) fail("creating the bpffs");
  int mount_fd = fsmount(context, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mount_fd < 0) fail("fsmount of the bpffs");
  send_message(channel, MOUNT, mount_fd);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bpffs-hook <rootfs> delegate_cmds=... [delegate_...=...] < container-state.json\n");
    return 2;
  }
  long pid = container_pid();
  int channel[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) < 0) fail("socketpair");
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    close(channel[0]);
    sandbox_side(channel[1], pid, argv[1]);
  }
  close(channel[1]);
  host_side(channel[0], argc, argv);
  int status;
  if (waitpid(child, &status, 0) < 0) fail("waiting for the sandbox side");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
