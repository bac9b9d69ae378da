// The OCI runtime configuration of one sandbox. Each choice below was measured on this kind of
// host (DESIGN.md, "The sandbox" and "Trust model"); change one only with a new measurement.

export interface SandboxLimits {
  memoryBytes: number;
  pids: number;
  cpus: number;
}

// The host ids that ids 0…count-1 inside a sandbox stand for: the lab image is owned by this range.
export interface IdRange {
  hostId: number;
  count: number;
}

// How much of the host a sandbox holds.
//   user-namespace: root inside is an unprivileged range of host ids; capabilities count only over
//     the sandbox's own namespaces; BPF only through the token its bpffs delegates. The default.
//   host-root: root inside is host root with CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON over the whole
//     machine (free-form bpftrace, but also every host-wide knob). Only for one trusted learner on
//     a disposable machine: see config.ts.
export type Isolation = 'user-namespace' | 'host-root';

// Capabilities a learner needs to build namespaces, wire and shape them, and load BPF programs. In
// a user-namespace sandbox they are held over the sandbox's own user namespace only.
// Not CAP_SYS_RESOURCE: the host's bounding set lacks it and runc then fails with "unable to apply caps".
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_BPF',
  'CAP_PERFMON', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE', 'CAP_SYS_PTRACE', 'CAP_IPC_LOCK',
];

// What the sandbox's bpffs lets a token holder do: every BPF flow of the course ran with exactly
// this (XDP, tc-BPF, tcx, AF_XDP; libbpf's feature probe loads a socket_filter). The names are
// the kernel's (kernel/bpf/inode.c, bpf_parse_param()).
export const BPF_DELEGATION = {
  delegate_cmds: 'prog_load:map_create:btf_load:obj_pin:obj_get:link_create',
  delegate_maps: 'array:hash:percpu_array:percpu_hash:lpm_trie:xskmap:devmap:devmap_hash:ringbuf',
  delegate_progs: 'xdp:sched_cls:sched_act:socket_filter',
  delegate_attachs: 'any',
};

// Where BPF tools inside find the delegated bpffs. `ip netns exec` mounts a fresh /sys and so hides
// /sys/fs/bpf; /run/bpf stays visible in every namespace of the sandbox.
const BPF_TOKEN_ENV = ['LIBBPF_BPF_TOKEN_PATH=/run/bpf', 'TC_BPF_MNT=/run/bpf', 'LIBXDP_BPFFS=/run/bpf'];

// What a check's command finds in its environment besides PATH, HOME and TMPDIR, which
// native/pristine-exec.c sets: the sandbox's own, so its tools behave as they do for the learner.
export function inspectEnvironment(isolation: Isolation) {
  return ['LANG=C.UTF-8', ...(isolation === 'user-namespace' ? BPF_TOKEN_ENV : [])];
}

const TUN_MAJOR = 10;
const TUN_MINOR = 200;
const CPU_PERIOD_US = 100_000;

export function sandboxSpec(options: {
  id: string;
  annotations: Record<string, string>;
  rootfs: string;
  serviceDir: string;
  // A 0666 TUN node the host made for this sandbox (the host's own /dev/net/tun is 0600).
  tunDevice: string;
  bpffsHook: string;
  limits: SandboxLimits;
  isolation: Isolation;
  ids: IdRange;
}) {
  const { id, annotations, rootfs, serviceDir, tunDevice, bpffsHook, limits, isolation, ids } = options;
  const userNamespace = isolation === 'user-namespace';
  const commonMounts = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // Read-write: the sandbox has its own network namespace, and labs write per-device knobs.
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev'] },
    // `ip netns add` bind-mounts namespaces under /run/netns: it needs a writable, private /run.
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'] },
    { destination: '/run/wirelab', type: 'bind', source: serviceDir, options: ['rbind', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=262144k'] },
  ];
  const isolationMounts = userNamespace
    ? [
        // `ip netns exec` remounts /sys for the namespace it enters; in a user namespace the kernel
        // allows that only while a fully visible sysfs is mounted somewhere (mount_too_revealing()
        // in fs/namespace.c): this second one is it.
        { destination: '/run/.sysfs-anchor', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        { destination: '/dev/net/tun', type: 'bind', source: tunDevice, options: ['bind', 'nosuid', 'noexec'] },
      ]
    : [
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
        { destination: '/sys/fs/bpf', type: 'bpf', source: 'bpf', options: ['nosuid', 'noexec', 'nodev', 'mode=700'] },
        { destination: '/sys/kernel/tracing', type: 'tracefs', source: 'tracefs', options: ['nosuid', 'noexec', 'nodev'] },
      ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      // tini as PID 1 reaps the orphans learners leave behind, so zombies never pile up against the pids limit.
      args: ['/usr/bin/tini', '--', 'sleep', 'infinity'],
      env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'HOME=/root',
        'LANG=C.UTF-8',
        'TERM=xterm-256color',
        ...(userNamespace ? BPF_TOKEN_ENV : []),
      ],
      cwd: '/root',
      capabilities: {
        bounding: CAPABILITIES,
        effective: CAPABILITIES,
        permitted: CAPABILITIES,
        inheritable: [],
        ambient: [],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }],
      noNewPrivileges: true,
      // Under memory pressure on the host, a sandbox's processes go before the server's.
      oomScoreAdj: 500,
    },
    root: { path: rootfs, readonly: false },
    hostname: 'lab',
    mounts: [...commonMounts, ...isolationMounts],
    annotations,
    ...(userNamespace && {
      hooks: {
        createRuntime: [{ path: bpffsHook, args: ['bpffs-hook', rootfs, ...Object.entries(BPF_DELEGATION).map(([key, value]) => `${key}=${value}`)], timeout: 10 }],
      },
    }),
    linux: {
      namespaces: [
        ...(userNamespace ? [{ type: 'user' }] : []),
        { type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' },
      ],
      ...(userNamespace && {
        uidMappings: [{ containerID: 0, hostID: ids.hostId, size: ids.count }],
        gidMappings: [{ containerID: 0, hostID: ids.hostId, size: ids.count }],
      }),
      cgroupsPath: `/wirelab/${id}`,
      resources: {
        memory: { limit: limits.memoryBytes },
        pids: { limit: limits.pids },
        cpu: { quota: Math.round(limits.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US },
        devices: [
          { allow: false, access: 'rwm' },
          // strongSwan's userspace ESP (Part 5) needs a TUN device.
          { allow: true, type: 'c', major: TUN_MAJOR, minor: TUN_MINOR, access: 'rwm' },
        ],
      },
      // A user namespace cannot make device nodes: there the TUN node is bind-mounted from the host (above).
      devices: userNamespace ? [] : [{ path: '/dev/net/tun', type: 'c', major: TUN_MAJOR, minor: TUN_MINOR, fileMode: 0o666, uid: 0, gid: 0 }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware'],
      // /proc/sys stays writable: per-namespace sysctls (ip_forward, rp_filter) are the subject of several
      // labs. In a user-namespace sandbox the kernel itself refuses the host-wide ones, since they belong
      // to the host's root (test/server/isolation.test.ts tries every one).
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger'],
    },
  };
}
