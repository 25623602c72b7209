// The words config.json `mounts[].options` may hold, with what each means:
// mount(8) flag words (MS_* flags set or cleared), propagation words and
// bind/rbind. Anything else is passed to the filesystem as data (e.g.
// "mode=755", "size=65536k"). The mount planner (container/mounts.ts) reads
// these tables; `features` publishes their words.

/** mount(2) flags. */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** Flag words: [flags set, flags cleared]. */
export const FLAG_WORDS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  mand: [MS.MANDLOCK, 0],
  nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0],
  atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0],
  nolazytime: [0, MS.LAZYTIME],
  iversion: [MS.I_VERSION, 0],
  noiversion: [0, MS.I_VERSION],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
  symfollow: [0, MS.NOSYMFOLLOW],
  silent: [MS.SILENT, 0],
  loud: [0, MS.SILENT],
  defaults: [0, 0],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** The words that make a mount a bind (rbind: recursive). */
export const BIND_WORDS = ['bind', 'rbind'] as const;

/** Every word above, sorted: what `features` reports as mountOptions. */
export const MOUNT_FLAG_OPTIONS: readonly string[] = [...Object.keys(FLAG_WORDS), ...Object.keys(PROPAGATION), ...BIND_WORDS].sort();
