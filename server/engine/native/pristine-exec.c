// Runs a check command against a sandbox's kernel state with the tools of the read-only lab image,
// so that nothing a learner does to their own files changes what a check sees.
//
// The learner is root in the sandbox: they could replace /usr/sbin/ip with a script that prints what a
// check expects, put a program earlier in PATH, or preload a library from /etc/ld.so.preload. So the
// check does not run in the sandbox's file system. It runs in a mount namespace of its own whose root is
// the lab image itself, read-only (with its /usr/local, /etc and the /bin, /lib... links of merged /usr),
// and which borrows from the sandbox only what is state rather than program:
//   /root, /tmp and /run   the learner's files, sockets, named network namespaces (/run/netns) and BPF pins (/run/bpf);
//   /sys                   a fresh sysfs of the sandbox's network namespace, with the sandbox's bpffs at /sys/fs/bpf;
//   /proc                  a fresh procfs of the sandbox's pid namespace (the learner may have mounted files over theirs);
//   /dev                   a fresh tmpfs with the host's null, zero, full, random and urandom, as runc makes it;
//   /var/tmp               a fresh tmpfs of the check's own, its TMPDIR.
// The command then joins the sandbox's cgroup and its network, ipc, uts, cgroup and pid namespaces,
// and becomes root of the sandbox's user namespace, with the sandbox's capability bounding set and no
// new privileges: it never holds more than the learner's own root does, so nothing the learner planted
// (a symlink in /root, a FIFO in /tmp) can turn it against the host. Its mount namespace is owned by
// the host's user namespace, so it cannot remount the image read-write or mount anything over it; a
// namespace it makes below (`ip netns exec` does) gets every mount locked.
//
// open_tree() clones mounts of the caller's own mount namespace, so the image and the host's device
// nodes are cloned before leaving the host's, and the sandbox's directories in the private copy of the
// sandbox's, opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): host root never follows a
// path the learner could have changed.
//
//   pristine-exec <sandbox init pid> <sandbox id> <image dir> <timeout seconds> [NAME=value ...] -- <command> [argument ...]
// exits with the command's status (128 + the signal that ended it; 137 when the timeout killed it),
// or with 125 and a line starting "pristine-exec:" when it could not run the command.
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define HELPER_FAILED 125
#define HELPER_REFUSED 125
#define HELPER_PREFIX "pristine-exec: "
#include "sandbox-process.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define COMMAND_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
// As runc gives the sandbox (server/engine/oci-spec.ts).
#define OPEN_FILES_LIMIT 4096

static const char *const LEARNER_DIRECTORIES[] = {"root", "tmp", "run"};
#define LEARNER_DIRECTORY_COUNT (sizeof LEARNER_DIRECTORIES / sizeof *LEARNER_DIRECTORIES)
static const char *const DEVICES[] = {"null", "zero", "full", "random", "urandom"};
#define DEVICE_COUNT (sizeof DEVICES / sizeof *DEVICES)

// The namespaces the command joins, besides the user namespace (last) and the mount namespace (copied).
static const struct {
  const char *name;
  int type;
} JOINED[] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID}};
#define JOINED_COUNT (sizeof JOINED / sizeof *JOINED)

// A detached, recursive copy of a directory's mounts, as open_tree(OPEN_TREE_CLONE) makes it.
static int clone_tree(int directory, const char *path, const char *what) {
  int tree = open_tree(directory, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | (*path ? 0 : AT_EMPTY_PATH));
  if (tree < 0) fail(what);
  return tree;
}

static void attach(int tree, const char *where) {
  if (move_mount(tree, "", AT_FDCWD, where, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail(where);
  close(tree);
}

// The image, read-only, cloned while this process still sees the host's files.
static int clone_image(const char *image_dir) {
  int image = clone_tree(AT_FDCWD, image_dir, "cloning the lab image");
  struct mount_attr read_only = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  if (mount_setattr(image, "", AT_EMPTY_PATH | AT_RECURSIVE, &read_only, sizeof read_only) < 0) fail("making the image read-only");
  return image;
}

// Moves this process into every cgroup hierarchy the sandbox's init is in at /wirelab/<id>, so the
// sandbox's memory, pids and CPU limits hold the check too, and ending the sandbox ends it. The
// hierarchies are found in this process's mountinfo: cgroup v2 (id 0), or v1 named by controllers.
static void join_sandbox_cgroup(long pid, const char *sandbox_id) {
  char cgroup[128], path[512], line[1024], mount_line[4096];
  sandbox_cgroup(sandbox_id, cgroup, sizeof cgroup);
  snprintf(path, sizeof path, "/proc/%ld/cgroup", pid);
  FILE *hierarchies = fopen(path, "r");
  if (!hierarchies) fail("reading the sandbox's cgroups");
  int joined = 0;
  while (fgets(line, sizeof line, hierarchies)) {
    line[strcspn(line, "\n")] = '\0';
    char *controllers = strchr(line, ':');
    char *where = controllers ? strchr(controllers + 1, ':') : NULL;
    if (!where) continue;
    *controllers++ = '\0';
    *where++ = '\0';
    if (strcmp(where, cgroup) != 0) continue;
    int version2 = !strcmp(line, "0") && !*controllers;
    FILE *mounts = fopen("/proc/self/mountinfo", "r");
    if (!mounts) fail("reading the host's mounts");
    while (fgets(mount_line, sizeof mount_line, mounts)) {
      // id parent major:minor root mount-point options [optional...] - type source super-options
      char root[256], mount_point[256], type[32], super_options[1024];
      char *separator = strstr(mount_line, " - ");
      if (!separator || sscanf(mount_line, "%*s %*s %*s %255s %255s", root, mount_point) != 2) continue;
      if (sscanf(separator, " - %31s %*s %1023s", type, super_options) != 2 || strcmp(root, "/") != 0) continue;
      if (version2 ? strcmp(type, "cgroup2") != 0 : strcmp(type, "cgroup") != 0) continue;
      if (!version2) {
        int all = 1;
        char wanted[256];
        snprintf(wanted, sizeof wanted, "%s", controllers);
        for (char *saved, *controller = strtok_r(wanted, ",", &saved); controller; controller = strtok_r(NULL, ",", &saved)) {
          char needle[300], options[1040];
          snprintf(needle, sizeof needle, ",%s,", controller);
          snprintf(options, sizeof options, ",%s,", super_options);
          if (!strstr(options, needle)) all = 0;
        }
        if (!all) continue;
      }
      snprintf(path, sizeof path, "%s%s/cgroup.procs", mount_point, cgroup);
      int procs = open(path, O_WRONLY | O_CLOEXEC);
      if (procs < 0 || write(procs, "0", 1) != 1) fail("joining the sandbox's cgroup");
      close(procs);
      joined++;
      break;
    }
    fclose(mounts);
  }
  fclose(hierarchies);
  if (!joined) refuse("the sandbox's cgroup was not found");
}

// A directory of the sandbox's, opened inside its root: a symlink the learner put in its place is refused.
static int open_learner_directory(int root, const char *name) {
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  return syscall(SYS_openat2, root, name, &how, sizeof how);
}

// Writes a file in a directory this process just made (never one of the sandbox's).
static void make_file(const char *path, mode_t mode) {
  int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) fail(path);
  close(fd);
}

static void mount_tmpfs(const char *where, const char *options) {
  if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0) fail(where);
}

// /dev as runc makes it for a user-namespace sandbox: the host's harmless devices bound onto files.
static void make_dev(int devices[]) {
  mount_tmpfs("/dev", "mode=755,size=64k");
  char path[64];
  for (size_t i = 0; i < DEVICE_COUNT; i++) {
    snprintf(path, sizeof path, "/dev/%s", DEVICES[i]);
    make_file(path, 0666);
    attach(devices[i], path);
  }
  const char *links[][2] = {{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    if (symlink(links[i][0], links[i][1]) < 0) fail(links[i][1]);
  }
  if (mkdir("/dev/shm", 01777) < 0 || chmod("/dev/shm", 01777) < 0) fail("/dev/shm");
}

// Builds the check's file system: a private copy of the sandbox's mounts (owned by the host's user
// namespace), on which the image is stacked as the new root, with the learner's state moved in.
static void enter_pristine_root(int sandbox_mounts, int image, int devices[]) {
  if (setns(sandbox_mounts, CLONE_NEWNS) < 0) fail("entering the sandbox's mount namespace");
  if (unshare(CLONE_NEWNS) < 0) fail("copying the sandbox's mount namespace");
  // Nothing mounted here reaches the sandbox, and nothing the learner mounts meanwhile reaches the check.
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("making the copied mounts private");

  int sandbox_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sandbox_root < 0) fail("opening the sandbox's root");
  int learner[LEARNER_DIRECTORY_COUNT];
  for (size_t i = 0; i < LEARNER_DIRECTORY_COUNT; i++) {
    int directory = open_learner_directory(sandbox_root, LEARNER_DIRECTORIES[i]);
    // A learner who removed /root or put a symlink there: the check sees the image's empty one.
    learner[i] = directory < 0 ? -1 : clone_tree(directory, "", LEARNER_DIRECTORIES[i]);
    if (directory >= 0) close(directory);
  }
  int bpffs = -1, sys_fs_bpf = open_learner_directory(sandbox_root, "sys/fs/bpf");
  struct statfs filesystem;
  if (sys_fs_bpf >= 0 && fstatfs(sys_fs_bpf, &filesystem) == 0 && filesystem.f_type == BPF_FS_MAGIC) {
    bpffs = clone_tree(sys_fs_bpf, "", "the sandbox's bpffs");
  }
  if (sys_fs_bpf >= 0) close(sys_fs_bpf);
  close(sandbox_root);

  if (fchdir(image) < 0) fail("entering the image");
  if (move_mount(image, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0) fail("stacking the image on the root");
  if (chroot(".") < 0 || chdir("/") < 0) fail("making the image the root");
  close(image);

  for (size_t i = 0; i < LEARNER_DIRECTORY_COUNT; i++) {
    char where[16];
    snprintf(where, sizeof where, "/%s", LEARNER_DIRECTORIES[i]);
    if (learner[i] >= 0) attach(learner[i], where);
  }
  make_dev(devices);
  mount_tmpfs("/var/tmp", "mode=1777,size=64m");
  // sysfs shows the network namespace of the process that mounts it, so it comes after joining that.
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mounting /sys");
  if (bpffs >= 0) attach(bpffs, "/sys/fs/bpf");
}

// The capabilities runc gave the sandbox's root (its bounding set), read while its /proc is in reach.
static unsigned long long sandbox_capabilities(long pid) {
  char path[64], line[256];
  unsigned long long bounding = 0;
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  FILE *status = fopen(path, "r");
  if (!status) fail("reading the sandbox's capabilities");
  int found = 0;
  while (fgets(line, sizeof line, status)) found |= sscanf(line, "CapBnd: %llx", &bounding) == 1;
  fclose(status);
  if (!found) refuse("the sandbox's capabilities are unknown");
  return bounding;
}

// Joining a user namespace gives every capability in it: keep only those the sandbox's root has.
static void keep_sandbox_capabilities(unsigned long long bounding) {
  for (int capability = 0; capability <= CAP_LAST_CAP; capability++) {
    if (!(bounding & (1ULL << capability)) && prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0 && errno != EINVAL) fail("dropping a capability");
  }
}

static void become_sandbox_root(int user_namespace) {
  struct stat own, sandbox;
  if (stat("/proc/self/ns/user", &own) < 0 || fstat(user_namespace, &sandbox) < 0) fail("comparing user namespaces");
  // A host-root sandbox (server/config.ts) has no user namespace of its own: its root is the host's.
  if (own.st_ino != sandbox.st_ino || own.st_dev != sandbox.st_dev) {
    if (setns(user_namespace, CLONE_NEWUSER) < 0) fail("entering the sandbox's user namespace");
  }
  if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) fail("becoming the sandbox's root");
}

static pid_t command_group;
static volatile sig_atomic_t timed_out;

static void end_command(int signal) {
  if (signal == SIGALRM) timed_out = 1;
  if (command_group > 0) {
    kill(-command_group, SIGKILL);
    kill(command_group, SIGKILL);
  }
}

int main(int argc, char **argv) {
  int separator = 5;
  while (separator < argc && strcmp(argv[separator], "--") != 0) separator++;
  if (argc < 7 || separator >= argc - 1) {
    fprintf(stderr, "usage: pristine-exec <sandbox pid> <sandbox id> <image dir> <timeout seconds> [NAME=value ...] -- <command> [argument ...]\n");
    return HELPER_FAILED;
  }
  long pid;
  int pidfd = open_sandbox_init(argv[1], argv[2], &pid);
  const char *image_dir = argv[3];
  long timeout_seconds = strtol(argv[4], NULL, 10);
  if (timeout_seconds <= 0) refuse("not a timeout in seconds");

  int user_namespace = open_namespace(pid, "user");
  int mount_namespace = open_namespace(pid, "mnt");
  int joined[JOINED_COUNT];
  for (size_t i = 0; i < JOINED_COUNT; i++) joined[i] = open_namespace(pid, JOINED[i].name);
  int image = clone_image(image_dir);
  int devices[DEVICE_COUNT];
  for (size_t i = 0; i < DEVICE_COUNT; i++) {
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", DEVICES[i]);
    devices[i] = clone_tree(AT_FDCWD, path, path);
  }
  unsigned long long capabilities = sandbox_capabilities(pid);
  join_sandbox_cgroup(pid, argv[2]);
  require_still_running(pidfd);

  if (setns(joined[0], CLONE_NEWNET) < 0) fail("entering the sandbox's network namespace");
  enter_pristine_root(mount_namespace, image, devices);
  for (size_t i = 1; i < JOINED_COUNT; i++) {
    if (setns(joined[i], JOINED[i].type) < 0) fail(JOINED[i].name);
  }

  struct sigaction ending = {.sa_handler = end_command};
  sigaction(SIGALRM, &ending, NULL);
  sigaction(SIGTERM, &ending, NULL);
  sigaction(SIGINT, &ending, NULL);
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    // Now a process of the sandbox's pid namespace: the procfs it mounts shows that namespace.
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mounting /proc");
    become_sandbox_root(user_namespace);
    keep_sandbox_capabilities(capabilities);
    struct rlimit open_files = {OPEN_FILES_LIMIT, OPEN_FILES_LIMIT};
    if (setrlimit(RLIMIT_NOFILE, &open_files) < 0) fail("limiting open files");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("forbidding new privileges");
    if (setsid() < 0) fail("starting a process group");
    // Set after the change of credentials, which clears it.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("tying the command to this process");
    if (chdir("/root") < 0 && chdir("/") < 0) fail("chdir");
    signal(SIGALRM, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close_range(3, ~0U, 0);
    clearenv();
    putenv(COMMAND_PATH);
    putenv("HOME=/root");
    putenv("TMPDIR=/var/tmp");
    for (int i = 5; i < separator; i++) {
      if (!strchr(argv[i], '=') || !strncmp(argv[i], "LD_", 3)) refuse("not an environment variable a check may have");
      putenv(argv[i]);
    }
    execvp(argv[separator + 1], argv + separator + 1);
    fail(argv[separator + 1]);
  }
  command_group = child;
  alarm(timeout_seconds);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("waiting for the command");
  }
  if (timed_out) return 128 + SIGKILL;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
