// TypeScript shapes of config.json (runtime-spec 1.0.0 … 1.x, Linux part) and
// of the state document. They describe what the schema has already checked,
// so code past validateConfig() may rely on them; unknown properties may still
// be present (the spec says runtimes must accept them).

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** The runtime-spec's hook kinds, in lifecycle order. */
export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
export type Hooks = Partial<Record<HookName, Hook[]>>;

export interface User {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user?: User;
  /** Non-empty: our schema requires it (see schemas/defs.schema.json). */
  args: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  ioPriority?: { class: string; priority?: number };
  scheduler?: { policy: string; nice?: number; priority?: number; flags?: string[]; runtime?: number; deadline?: number; period?: number };
  execCPUAffinity?: { initial?: string; final?: string };
}

export type NamespaceType = 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  type: NamespaceType;
  /** Join this namespace (a /proc/PID/ns/… or bind-mounted nsfs file) instead of creating one. */
  path?: string;
}

export interface LinuxDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** Go clients send null for empty lists and unset numbers (the schema accepts it). */
export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number | null;
  flags?: string[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  architectures?: string[] | null;
  syscalls?: SeccompSyscall[] | null;
}

export interface SeccompSyscall {
  names: string[] | null;
  action: string;
  errnoRet?: number | null;
  args?: { index: number; value: number; valueTwo?: number | null; op: string }[] | null;
}

export interface TimeOffset {
  secs?: number;
  nanosecs?: number;
}

/** linux.resources (config-linux.md "Control groups"); numbers as JSON.parse gives them. */
export interface LinuxResources {
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
    useHierarchy?: boolean;
    checkBeforeUpdate?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    burst?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
    idle?: number;
  };
  pids?: { limit?: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: { major: number; minor: number; weight?: number; leafWeight?: number }[];
    throttleReadBpsDevice?: ThrottleDevice[];
    throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[];
    throttleWriteIOPSDevice?: ThrottleDevice[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
  [unknown: string]: unknown;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  timeOffsets?: { boottime?: TimeOffset; monotonic?: TimeOffset };
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  /** cgroup limits: applied by src/cgroups (see policy.ts for what applies where). */
  resources?: LinuxResources;
  intelRdt?: Record<string, unknown>;
  sysctl?: Record<string, string>;
  seccomp?: Seccomp;
  rootfsPropagation?: 'private' | 'shared' | 'slave' | 'unbindable';
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain?: 'LINUX' | 'LINUX32'; flags?: string[] };
  /** runtime-spec 1.3: set_mempolicy(2) of the container's processes. */
  memoryPolicy?: { mode: string; nodes?: string; flags?: string[] };
  /** runtime-spec 1.2: network devices moved into the container. */
  netDevices?: Record<string, { name?: string }>;
  [unknown: string]: unknown;
}

export interface OciConfig {
  ociVersion: string;
  /** Required by our schema (upstream leaves it optional). */
  root: { path: string; readonly?: boolean };
  mounts?: Mount[];
  /** Required by our schema (upstream leaves it optional). */
  process: Process;
  hostname?: string;
  domainname?: string;
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
  [unknown: string]: unknown;
}

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

export interface OciState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** Present while the container process exists (required for created/running). */
  pid?: number;
  /** Absolute path of the bundle. */
  bundle: string;
  annotations?: Record<string, string>;
}
