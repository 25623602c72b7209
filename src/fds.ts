// Which fds from 3 up the caller passed us, for --preserve-fds. Node opens
// its own at startup (the event loop's epoll and io_uring fds, eventfds,
// pipes), each at the lowest free number, and marks inherited ones
// close-on-exec, so neither the flags nor the kind of an fd tells. The order
// does: at startup every fd below Node's first one was inherited (else Node
// would have taken the hole), and Node's first is its event loop's epoll fd,
// which it never closes. So the caller's fds are 3 up to the lowest epoll
// fd; one the caller passed after a hole, or an epoll fd of its own, is not
// passed on (the error says which fds are).
import * as fs from 'node:fs';
import { UserError } from './errors';

/** How many fds from 3 on are the caller's, given what each open fd is (readlink of /proc/self/fd/N). */
export function callerFdCount(links: ReadonlyMap<number, string>): number {
  let n = 0;
  for (let fd = 3; links.has(fd) && links.get(fd) !== 'anon_inode:[eventpoll]'; fd++) n++;
  return n;
}

/** The problem with passing fds 3..3+count-1 on, or undefined when all are the caller's. */
export function preserveProblem(count: number, links: ReadonlyMap<number, string>): string | undefined {
  const passed = callerFdCount(links);
  if (count <= passed) return undefined;
  const fd = 3 + passed;
  const only = passed === 0 ? 'the caller passed none' : `only fds 3-${2 + passed} are`;
  if (!links.has(fd)) return `fd ${fd} is not open (${only})`;
  return `fd ${fd} is ch-run-oci's own, not one the caller passed (${only})`;
}

/** Our open fds from 3 on, each with what it is. */
function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(e);
    if (!(fd >= 3)) continue;
    try {
      out.set(fd, fs.readlinkSync(`/proc/self/fd/${e}`));
    } catch {
      /* the readdir's own fd, closed meanwhile */
    }
  }
  return out;
}

/** Throws the one line of --preserve-fds COUNT when an fd in 3..3+COUNT-1 is not the caller's. */
export function checkPreserveFds(count: number): void {
  if (count === 0) return;
  const problem = preserveProblem(count, openFds());
  if (problem) throw new UserError(`--preserve-fds ${count}`, problem);
}
