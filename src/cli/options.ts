// The command line, declared once: every verb's words and options. yargs
// (parse.ts), the hot-verb fast path (fast.ts) and exec's argument splitter
// all read this table, so an option added here exists everywhere.
import type { GlobalOptions } from '../commands/global';

/** Parsed arguments, as yargs gives them (kebab-case and camelCase keys). */
export type Args = { _: (string | number)[] } & Record<string, unknown>;

export interface Option {
  name: string;
  /** A flag takes no value; `value` options take the next word or `=VALUE`. */
  kind: 'flag' | 'value';
  alias?: string;
  /** Present in the arguments even when the option is not given (yargs' default). */
  default?: string;
  defaultDescription?: string;
  choices?: readonly string[];
  /** May be given several times; the values form a list. */
  array?: boolean;
  /** A value option whose value may be left out (`spec --rootless`, runc's `--rootless VALUE`). */
  optionalValue?: boolean;
  /** Accepted for runc compatibility and meaning nothing here: a --debug note says so. */
  ignored?: boolean;
  hidden?: boolean;
  describe: string;
}

export type Run = (a: Args, g: GlobalOptions) => Promise<number | void>;

export interface Verb {
  name: string;
  describe: string;
  /** Positional words after the verb, in order (the last may take the rest: `rest`). */
  positionals: readonly { name: string; describe: string; rest?: boolean }[];
  options: readonly Option[];
  /** Hot verbs (called over and over by clients) also take the fast path. */
  fast?: boolean;
  run: Run;
}

export const GLOBAL_OPTIONS: readonly Option[] = [
  { name: 'root', kind: 'value', describe: 'state root (default: /run/ch-run-oci for root, $XDG_RUNTIME_DIR/ch-run-oci otherwise)' },
  { name: 'log', kind: 'value', describe: 'also append messages to this file' },
  { name: 'log-format', kind: 'value', choices: ['text', 'json'], describe: 'format of --log lines' },
  { name: 'debug', kind: 'flag', describe: 'show debug notes (ignored fields, steps) and stack traces' },
  {
    name: 'systemd-cgroup',
    kind: 'flag',
    describe: 'linux.cgroupsPath is slice:prefix:name; no systemd is called: the cgroup is made where systemd would put it',
  },
  {
    name: 'cgroup-manager',
    kind: 'value',
    describe: 'cgroupfs (default), systemd (= --systemd-cgroup) or disabled (no cgroup; limits are refused), as crun',
  },
  { name: 'rootless', kind: 'value', optionalValue: true, describe: 'accepted for runc compatibility (true|false|auto); always rootless' },
  { name: 'criu', kind: 'value', ignored: true, hidden: true, describe: 'accepted for runc compatibility; ignored' },
];

const ID = { name: 'id', describe: 'container id' };

/** The options create and run share (run adds its own). */
const CREATE_OPTIONS: readonly Option[] = [
  {
    name: 'bundle',
    kind: 'value',
    alias: 'b',
    default: '.',
    defaultDescription: 'current directory',
    describe: 'bundle directory (holds config.json)',
  },
  { name: 'pid-file', kind: 'value', describe: 'write the container process id here' },
  {
    name: 'console-socket',
    kind: 'value',
    describe: "unix socket that receives the terminal's pty master (with process.terminal, detached)",
  },
  { name: 'preserve-fds', kind: 'value', default: '0', describe: 'pass this many extra fds (from 3) to the container' },
  { name: 'no-pivot', kind: 'flag', describe: 'move the root into place and chroot instead of pivot_root' },
  { name: 'no-new-keyring', kind: 'flag', describe: "keep the caller's session keyring (default: a new one named after the id)" },
];

const FORMAT: Option = {
  name: 'format',
  kind: 'value',
  alias: 'f',
  choices: ['table', 'json'],
  default: 'table',
  describe: 'output format',
};

/** update's flags (runc's). All take a value; --resources overrides them. */
const UPDATE_FLAGS: readonly Option[] = (
  [
    ['blkio-weight', 'block IO weight, 10 to 1000'],
    ['cpu-period', 'CPU CFS period (microseconds)'],
    ['cpu-quota', 'CPU CFS quota per period (microseconds; -1: none)'],
    ['cpu-burst', 'CPU CFS burst (microseconds)'],
    ['cpu-share', 'CPU shares (relative weight)'],
    ['cpu-rt-period', 'CPU real-time period (microseconds)'],
    ['cpu-rt-runtime', 'CPU real-time runtime per period (microseconds)'],
    ['cpu-idle', '1: SCHED_IDLE for the cgroup, 0: normal'],
    ['cpuset-cpus', 'CPUs to use (0-3,5)'],
    ['cpuset-mems', 'memory nodes to use'],
    ['memory', 'memory limit (bytes, or 512m, 1g; -1: none)'],
    ['memory-reservation', 'memory soft limit'],
    ['memory-swap', 'memory + swap limit (-1: unlimited swap)'],
    ['pids-limit', 'maximum number of processes (-1: none)'],
    ['kernel-memory', 'obsolete; ignored', true],
    ['kernel-memory-tcp', 'obsolete; ignored', true],
    ['l3-cache-schema', 'Intel RDT (not supported: an error)', true],
    ['mem-bw-schema', 'Intel RDT (not supported: an error)', true],
  ] as [string, string, boolean?][]
).map(([name, describe, hidden]) => ({ name, kind: 'value' as const, describe, hidden }));

export const VERBS: readonly Verb[] = [
  {
    name: 'create',
    describe: 'create a container (it waits for start)',
    positionals: [ID],
    options: CREATE_OPTIONS,
    fast: true,
    run: async (a, g) => (await import('../commands/create')).create(a, g),
  },
  {
    name: 'start',
    describe: 'start the user program of a created container',
    positionals: [ID],
    options: [],
    fast: true,
    run: async (a, g) => (await import('../commands/start')).start(a, g),
  },
  {
    name: 'run',
    describe: 'create, start and wait for a container; exits with its status',
    positionals: [ID],
    options: [
      ...CREATE_OPTIONS,
      { name: 'detach', kind: 'flag', alias: 'd', describe: 'return after start instead of waiting' },
      { name: 'keep', kind: 'flag', describe: 'keep the container after it exits' },
      { name: 'no-subreaper', kind: 'flag', describe: 'accepted; ignored' },
    ],
    run: async (a, g) => (await import('../commands/run')).run(a, g),
  },
  {
    name: 'state',
    describe: 'print the state of a container as JSON',
    positionals: [ID],
    options: [],
    fast: true,
    run: async (a, g) => (await import('../commands/state')).state(a, g),
  },
  {
    name: 'kill',
    describe: 'send a signal to a container (default TERM)',
    positionals: [ID, { name: 'signal', describe: 'name (TERM, SIGKILL) or number (15)' }],
    options: [{ name: 'all', kind: 'flag', alias: 'a', describe: 'signal every process of the container' }],
    fast: true,
    run: async (a, g) => (await import('../commands/kill')).kill(a, g),
  },
  {
    name: 'delete',
    describe: 'delete a stopped (or created) container',
    positionals: [ID],
    options: [{ name: 'force', kind: 'flag', alias: 'f', describe: 'kill a running container first; no error if it does not exist' }],
    fast: true,
    run: async (a, g) => (await import('../commands/delete')).remove(a, g),
  },
  {
    name: 'pause',
    describe: "freeze every process of a container (its cgroup's freezer)",
    positionals: [ID],
    options: [],
    run: async (a, g) => (await import('../commands/pause')).pause(a, g),
  },
  {
    name: 'resume',
    describe: 'thaw a paused container',
    positionals: [ID],
    options: [],
    run: async (a, g) => (await import('../commands/resume')).resume(a, g),
  },
  {
    name: 'update',
    describe: "change a running container's cgroup limits",
    positionals: [ID],
    options: [
      {
        name: 'resources',
        kind: 'value',
        alias: 'r',
        describe: 'JSON file with linux.resources fields to change (- for standard input); the other flags are then ignored',
      },
      ...UPDATE_FLAGS,
    ],
    run: async (a, g) => (await import('../commands/update')).update(a, g),
  },
  {
    name: 'events',
    describe: "print a container's resource usage as runc's JSON events",
    positionals: [ID],
    options: [
      { name: 'stats', kind: 'flag', describe: 'print one stats event and exit' },
      { name: 'interval', kind: 'value', default: '5s', describe: 'time between stats events (a Go duration: 5s, 500ms)' },
    ],
    run: async (a, g) => (await import('../commands/events')).events(a, g),
  },
  {
    name: 'list',
    describe: 'list containers',
    positionals: [],
    options: [FORMAT, { name: 'quiet', kind: 'flag', alias: 'q', describe: 'print ids only' }],
    run: async (a, g) => (await import('../commands/list')).list(a, g),
  },
  {
    name: 'ps',
    describe: 'list the processes of a container',
    positionals: [ID],
    options: [FORMAT],
    run: async (a, g) => (await import('../commands/ps')).ps(a, g),
  },
  {
    name: 'spec',
    describe: 'write a default config.json for this runtime',
    positionals: [],
    options: [
      {
        name: 'bundle',
        kind: 'value',
        alias: 'b',
        default: '.',
        defaultDescription: 'current directory',
        describe: 'where to write config.json',
      },
      {
        name: 'rootless',
        kind: 'value',
        optionalValue: true,
        describe: "runc's rootless layout (user namespace mappings, no network namespace)",
      },
    ],
    run: async (a, g) => (await import('../commands/spec')).spec(a, g),
  },
  {
    name: 'features',
    describe: 'print the OCI features document of this runtime',
    positionals: [],
    options: [],
    run: async (a, g) => (await import('../commands/features')).features(a, g),
  },
  {
    name: 'exec',
    describe: 'run one more process in a running container',
    positionals: [ID, { name: 'args', describe: 'command and arguments (or --process FILE)', rest: true }],
    options: [
      { name: 'process', kind: 'value', alias: 'p', describe: 'process.json describing the process' },
      { name: 'detach', kind: 'flag', alias: 'd', describe: 'return once the process runs' },
      { name: 'pid-file', kind: 'value', describe: 'write the process id here' },
      { name: 'cwd', kind: 'value', describe: 'working directory in the container' },
      { name: 'env', kind: 'value', alias: 'e', array: true, describe: 'NAME=VALUE added to the environment' },
      { name: 'user', kind: 'value', alias: 'u', describe: 'UID[:GID] in the container' },
      { name: 'additional-gids', kind: 'value', alias: 'g', array: true, describe: 'supplementary group ids' },
      { name: 'cap', kind: 'value', alias: 'c', array: true, describe: 'add a capability' },
      { name: 'no-new-privs', kind: 'flag', describe: 'set no_new_privs' },
      { name: 'preserve-fds', kind: 'value', default: '0', describe: 'pass this many extra fds (from 3)' },
      {
        name: 'tty',
        kind: 'flag',
        alias: 't',
        describe: 'allocate a pseudo-TTY (relayed by ch-run-oci, or sent to --console-socket with --detach)',
      },
      { name: 'console-socket', kind: 'value', describe: 'unix socket that receives the pty master (with a terminal and --detach)' },
      { name: 'process-label', kind: 'value', ignored: true, describe: 'accepted; no LSM labels are set' },
      { name: 'apparmor', kind: 'value', ignored: true, describe: 'accepted; no AppArmor profile is set' },
      { name: 'cgroup', kind: 'value', ignored: true, describe: "accepted and ignored: the process joins the container's cgroups" },
    ],
    run: async (a, g) => (await import('../commands/exec')).exec(a, g),
  },
];

/** runc verbs ch-run-oci does not have: each answers "not supported" in one line. */
export const UNSUPPORTED_VERBS: Readonly<Record<string, string>> = {
  checkpoint: 'checkpoint a running container',
  restore: 'restore a checkpointed container',
};

/** Every spelling (--name, -alias) of an option that takes the next word as its value. */
export function valueWords(options: readonly Option[]): Map<string, Option> {
  const out = new Map<string, Option>();
  for (const o of options) {
    if (o.kind !== 'value') continue;
    out.set(`--${o.name}`, o);
    if (o.alias) out.set(`-${o.alias}`, o);
  }
  return out;
}

/** Every option any verb or the global level takes. */
export const ALL_OPTIONS: readonly Option[] = [...GLOBAL_OPTIONS, ...VERBS.flatMap((v) => v.options)];
