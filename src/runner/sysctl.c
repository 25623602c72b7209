/* linux.sysctl (decided by src/container/sysctl.ts):
 *   sysctl NAME PATH VALUE          C2, before the mounts
 *   joined-sysctl NAME PATH VALUE   C1, after the joins, before the unshare
 * A /proc/sys file shows the namespace of the process that opens it, so both
 * write through the /proc the runner still sees (the caller's): no proc of
 * the container's is needed, and nothing depends on the mount order. PATH is
 * resolved below /proc/sys without following any link or leaving procfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

void write_sysctls(const struct plan *p, const char *tag) {
  int dir = -1;
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    if (strcmp(r->tag, tag)) continue;
    if (r->argc != 3) die(0, "linux.sysctl", "malformed record");
    if (dir < 0) {
      struct statfs sf;
      if ((dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) die(errno, "linux.sysctl", "open /proc/sys");
      if (fstatfs(dir, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) die(0, "linux.sysctl", "/proc/sys is not procfs");
    }
    struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
    int fd = (int)syscall(SYS_openat2, dir, r->argv[1], &how, sizeof how);
    if (fd < 0) die(errno, "linux.sysctl", "%s", r->argv[0]);
    size_t len = strlen(r->argv[2]);
    ssize_t w = write(fd, r->argv[2], len);
    if (w < 0 || (size_t)w != len) die(w < 0 ? errno : EIO, "linux.sysctl", "%s=%s", r->argv[0], r->argv[2]);
    close(fd);
  }
  if (dir >= 0) close(dir);
}
