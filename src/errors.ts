// One error idiom for the whole runtime: a UserError carries the one line a
// person (or podman, which matches on the text) reads after "ch-run-oci: ".
// Anything else that escapes is a bug; main.ts still prints it as one line and
// shows the stack only under --debug.

export class UserError extends Error {
  /** `what` names the field, argument or step; `why` says what is wrong. */
  constructor(what: string, why?: string) {
    super(why === undefined ? what : `${what}: ${why}`);
    this.name = 'UserError';
  }
}

/** A lifecycle hook failed (its label first: `hooks.prestart[0]: …`): create then runs the poststop hooks. */
export class HookError extends UserError {}

/** Text of an errno-style Node error without the syscall noise ("ENOENT: no such file…"). */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const text = ERRNO_TEXT[e.code];
    if (text) return text;
  }
  return e instanceof Error ? e.message.split('\n')[0] : String(err);
}

// strerror(3) wording, which users and podman's error matching know.
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EINVAL: 'invalid argument',
  ESRCH: 'no such process',
  EBUSY: 'device or resource busy',
  ENOTEMPTY: 'directory not empty',
};
