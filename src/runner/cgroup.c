/* `cgroup FILE…`: C1 moves itself into the container's cgroups (one
 * cgroup.procs per hierarchy) before it joins or makes any namespace. C2 and
 * everything it forks inherit them, so nothing of the container runs outside,
 * and a cgroup namespace made by the unshare is rooted at the container's
 * cgroup. "0" names the writer; the caller's credentials still apply here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

void join_cgroups(const struct plan *p) {
  const struct rec *r = plan_find(p, "cgroup");
  if (!r) return;
  for (int i = 0; i < r->argc; i++) {
    int fd = open(r->argv[i], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) die(errno, "cgroup", "open %s", r->argv[i]);
    ssize_t w;
    while ((w = write(fd, "0", 1)) < 0 && errno == EINTR) {}
    if (w != 1) die(w < 0 ? errno : EIO, "cgroup", "join %s", r->argv[i]);
    close(fd);
  }
}
