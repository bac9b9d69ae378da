// The OCI runtime configuration of one sandbox. Each choice below was measured on this kind of
// host (DESIGN.md, "The sandbox"); change one only with a new measurement.

export interface SandboxLimits {
  memoryBytes: number;
  pids: number;
  cpus: number;
}

// What a learner needs to build namespaces, load XDP and trace with bpftrace.
// Not CAP_SYS_RESOURCE: the host's bounding set lacks it and runc then fails with "unable to apply caps".
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_BPF',
  'CAP_PERFMON', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE', 'CAP_SYS_PTRACE', 'CAP_IPC_LOCK',
];

const TUN_MAJOR = 10;
const TUN_MINOR = 200;
const CPU_PERIOD_US = 100_000;

export function sandboxSpec(options: {
  id: string;
  annotations: Record<string, string>;
  serviceDir: string;
  limits: SandboxLimits;
}) {
  const { id, annotations, serviceDir, limits } = options;
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
    root: { path: 'rootfs', readonly: false },
    hostname: 'lab',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // Read-write: the sandbox has its own network namespace, and labs write rps_cpus and other per-device knobs.
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      // Each bpffs mount is its own instance, so pinned maps stay private to the sandbox.
      { destination: '/sys/fs/bpf', type: 'bpf', source: 'bpf', options: ['nosuid', 'noexec', 'nodev', 'mode=700'] },
      // bpftrace's tracepoints need tracefs (CURRICULUM.md).
      { destination: '/sys/kernel/tracing', type: 'tracefs', source: 'tracefs', options: ['nosuid', 'noexec', 'nodev'] },
      // `ip netns add` bind-mounts namespaces under /run/netns: it needs a writable, private /run.
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'] },
      { destination: '/run/wirelab', type: 'bind', source: serviceDir, options: ['rbind', 'nosuid', 'nodev', 'noexec'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=262144k'] },
    ],
    annotations,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
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
      devices: [{ path: '/dev/net/tun', type: 'c', major: TUN_MAJOR, minor: TUN_MINOR, fileMode: 0o666, uid: 0, gid: 0 }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware'],
      // /proc/sys stays writable: per-namespace sysctls (ip_forward, rp_filter) are the subject of several labs.
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger'],
    },
  };
}
