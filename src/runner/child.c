/* C1 joins and creates the namespaces; C2 (its child, pid 1 of a new pid
 * namespace when asked) builds the container and waits on the exec fifo.
 * An `exec` plan (no fifo, no unshare, no rootfs) only joins a running
 * container's namespaces and runs the process there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

/* exec: `target PID START`. Checked after the container's namespace files
 * are open and before any is joined: the pid still names the process
 * TypeScript read (same start time, field 22 of /proc/PID/stat), so the
 * open files are its; and its user and mount namespaces are not ours (a
 * process sharing them is no container: joining it would run the command on
 * the host's side, whatever state.json says). */
static void check_target(const struct plan *p, const struct rec **joins, const int *fds, int nfd) {
  const struct rec *t = plan_find(p, "target");
  if (!t) return;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%s/stat", t->argv[0]);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) die(0, "exec", "container process %s is not running", t->argv[0]);
  buf[n] = 0;
  char *s = strrchr(buf, ')');
  for (int field = 2; s && field < 22; field++) s = strchr(s + 1, ' ');
  if (!s || strncmp(s + 1, t->argv[1], strlen(t->argv[1])) || (s[1 + strlen(t->argv[1])] != ' ' && s[1 + strlen(t->argv[1])] != 0))
    die(0, "exec", "container process %s is not running (its pid names another process now)", t->argv[0]);
  static const struct {
    int flag;
    const char *ns, *name;
  } own[] = { { CLONE_NEWUSER, "user", "user" }, { CLONE_NEWNS, "mnt", "mount" } };
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
    struct stat ours, theirs;
    snprintf(path, sizeof path, "/proc/self/ns/%s", own[i].ns);
    if (stat(path, &ours) < 0) die(errno, "exec", "stat %s", path);
    int found = 0;
    for (int k = 0; k < nfd; k++) {
      if ((int)num(joins[k]->argv[0]) != own[i].flag) continue;
      if (fstat(fds[k], &theirs) < 0) die(errno, "exec", "stat %s", joins[k]->argv[1]);
      if (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino) found = 1;
    }
    if (!found) die(0, "exec", "container process %s is in our own %s namespace: not a container", t->argv[0], own[i].name);
  }
}

/* Blocks on a pipe that only R writes: EOF means R is gone, so give up. */
static void await(int fd) {
  char c;
  ssize_t r;
  while ((r = read(fd, &c, 1)) < 0 && errno == EINTR) {}
  if (r != 1) _exit(1);
}

/* The exec fifo, held as an O_PATH fd opened by C1 before the unshare (its
 * path is the caller's) and reopened for writing through /proc/self/fd at
 * start, as runc does. The state directory itself is never open in the
 * container process: an fd of a host directory would be a way out (a cwd of
 * /proc/self/fd/N). With set-up ids the fifo was handed to those ids by R. */
static int fifo_path_fd = -1;

/* At create, after pivot_root: /proc/self/fd/N must lead to our fifo, or
 * start could not open it (no /proc in the container, or a rootfs whose
 * /proc is something else). Checked by inode, so no look-alike passes. */
static void check_fifo_reachable(const char *via) {
  struct stat want, got;
  if (fstat(fifo_path_fd, &want) < 0) die(errno, "fifo", "stat");
  if (stat(via, &got) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    die(0, "mounts", "the container needs /proc (the exec fifo is reopened through %s at start)", via);
}

/* The hook pause runs with C2's pipes to R (see hooks.c). */
static struct pipes *c2_pipes;
static void hook_pause(const struct plan *p) {
  hooks_pause(p, c2_pipes->sync_w, c2_pipes->go_r);
}

static void __attribute__((noreturn)) run_c2(const struct plan *p, struct pipes *pp) {
  /* Killed with C1 until R has reported; the go pipe covers the instant
   * between fork and this prctl. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die(errno, "setsid", "prctl PDEATHSIG");
  close(pp->hold_r);
  if (setsid() < 0) die(errno, "setsid", "container process");

  setup_process_early(p);
  /* Before the mounts: written through the caller's /proc (see sysctl.c). */
  write_sysctls(p, "sysctl");
  c2_pipes = pp;
  if (plan_find(p, "rootfs")) setup_mounts(p, hook_pause);
  setup_process_create(p);
  /* After the mounts (or the join): the pty of the container's devpts. */
  tty_setup(p, pp->tty_w);
  const char *exe = resolve_exec(p);
  char via[64];
  snprintf(via, sizeof via, "/proc/self/fd/%d", fifo_path_fd);
  if (fifo_path_fd >= 0) check_fifo_reachable(via);
  /* In the container's cgroups already (C1 joined them): exec's final CPUs. */
  apply_cpus(p, "cpus-final");
  apply_mempolicy(p);
  profile_build(p);

  say(pp->sync_w, "ok\n");
  await(pp->go_r);
  /* R has reported "ok PID": from now on C2 lives on its own. */
  if (prctl(PR_SET_PDEATHSIG, 0) < 0) die(errno, "start", "prctl PDEATHSIG");
  say(pp->sync_w, "ack\n");
  close(pp->sync_w);
  close(pp->go_r);
  report_to(2);

  if (fifo_path_fd >= 0) {
    /* Blocks until `start` opens the fifo for reading. */
    int fd;
    while ((fd = open(via, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR) {}
    if (fd < 0) die(errno, "start", "open exec fifo through %s (the container needs /proc)", via);
    /* The startContainer hooks (their output and a failure go to `start`), then the go-ahead. */
    hooks_start(p, fd);
    if (write(fd, "0\n", 2) != 2) die(errno, "start", "write exec fifo");
    /* `start` keeps its end open until it exits, so the program begins after
     * start has returned (clients set up their signal handling then). With no
     * reader left, poll reports POLLERR; the bound covers a stopped start. */
    struct pollfd reader = { .fd = fd, .events = 0 };
    while (poll(&reader, 1, 5000) < 0 && errno == EINTR) {}
    close(fd);
    close(fifo_path_fd);
  }
  exec_container(p, exe);
}

void run_c1(const struct plan *p, struct pipes *pp, pid_t runner) {
  unsigned long long userns_ino = 0;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die(errno, "runner", "prctl PDEATHSIG");
  if (getppid() != runner) _exit(1); /* R died before the prctl */
  signal(SIGPIPE, SIG_DFL); /* R ignores it; the container must not */
  report_to(pp->sync_w);
  close(pp->sync_r);
  close(pp->maps_w);
  close(pp->go_w);
  close(pp->hold_w);
  if (pp->tty_r >= 0) close(pp->tty_r);
  /* Not dumpable from here to execve (which makes the program dumpable
   * again): ptrace, /proc/PID/mem and the /proc/PID/ns files of a
   * non-dumpable process need CAP_SYS_PTRACE over the user namespace our
   * memory belongs to, the caller's, which no container process has. `exec`
   * joins a running container holding every capability there, so from
   * before its first setns; create only once R has written our id maps (see
   * below), since an unprivileged R cannot open those files of a
   * non-dumpable process. */
  if (!plan_find(p, "unshare")) {
    setup_process_early(p);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  /* Fake root's supervisor: forked here, while we are still in the caller's
   * namespaces (see seccomp.c). */
  start_fakeroot_supervisor(p);
  /* exec's initial CPUs, before the move into the container's cgroups. */
  apply_cpus(p, "cpus-initial");
  /* Into the container's cgroups before any namespace: a cgroup namespace
   * made below is rooted there, and everything forked later is in them. */
  join_cgroups(p);

  /* Namespaces given by path are joined while we are still in the caller's
   * user namespace, which owns them (podman's netns). For `exec` the plan
   * names the container's namespaces, user first and mount last. Every path is
   * opened before the first setns: joining a mount namespace changes what
   * /proc shows. */
  enum { MAX_JOINS = 16 };
  int fds[MAX_JOINS], nfd = 0;
  const struct rec *joins[MAX_JOINS];
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    if (strcmp(r->tag, "join")) continue;
    if (nfd == MAX_JOINS) die(0, "plan", "more than %d namespaces to join", MAX_JOINS);
    joins[nfd] = r;
    if ((fds[nfd++] = open(r->argv[1], O_RDONLY | O_CLOEXEC)) < 0) die(errno, "join namespace", "open %s", r->argv[1]);
  }
  check_target(p, joins, fds, nfd);
  /* Who may join what depends on who owns it: a namespace owned by the caller's
   * user namespace (podman's netns that the container joined at create) can only
   * be joined before we enter the container's user namespace, one owned by the
   * container's user namespace only after, when the caller has no privilege of
   * its own (an ordinary user). So: every namespace but user and mount first,
   * keeping the EPERM ones for after the user namespace; mount always last. */
  int later[MAX_JOINS] = { 0 };
  for (int k = 0; k < nfd; k++) {
    int flag = (int)num(joins[k]->argv[0]);
    if (flag == CLONE_NEWUSER || flag == CLONE_NEWNS) continue;
    if (setns(fds[k], flag) == 0) later[k] = -1;
    else if (errno == EPERM) {
      later[k] = 1;
      note("%s: EPERM before entering the container's user namespace, joined from inside it", joins[k]->argv[1]);
    } else die(errno, "join namespace", "setns %s", joins[k]->argv[1]);
  }
  for (int pass = 0; pass < 3; pass++) {
    for (int k = 0; k < nfd; k++) {
      int flag = (int)num(joins[k]->argv[0]);
      int now = pass == 0 ? flag == CLONE_NEWUSER : pass == 1 ? later[k] == 1 : flag == CLONE_NEWNS;
      if (now && setns(fds[k], flag) < 0) die(errno, "join namespace", "setns %s", joins[k]->argv[1]);
    }
  }
  for (int k = 0; k < nfd; k++) close(fds[k]);
  premake_sysfs(p);
  /* Joined namespaces are owned by the caller's user namespace: only here,
   * before the unshare, does the caller's privilege still count. */
  write_sysctls(p, "joined-sysctl");

  /* One unshare: the kernel makes the user namespace first, so every other
   * namespace created here is owned by it. `exec` creates none. */
  const struct rec *u = plan_find(p, "unshare");
  const struct rec *fifo = plan_find(p, "fifo");
  if (fifo) {
    char path[4096];
    snprintf(path, sizeof path, "%s/exec.fifo", fifo->argv[0]);
    if ((fifo_path_fd = open(path, O_PATH | O_CLOEXEC)) < 0) die(errno, "fifo", "open %s", path);
  }
  if (u) {
    lock_binds(p);
    if (unshare((int)num(u->argv[0])) < 0) die(errno, "unshare", "namespaces");
    /* The container's user namespace, by inode, for R's report: the caller
     * cannot read it from /proc once we are not dumpable. */
    struct stat ns;
    if (stat("/proc/self/ns/user", &ns) < 0) die(errno, "unshare", "stat /proc/self/ns/user");
    userns_ino = (unsigned long long)ns.st_ino;
    say(pp->sync_w, "unshared\n");
    await(pp->maps_r);
    /* Still with every capability of the new user namespace, before any
     * process is in the new time namespace. */
    write_time_offsets(p);
    setup_process_early(p); /* before an id change: it needs our /proc files */
    /* The caller's own ids may have no mapping (--uidmap 0:1:…): the set-up
     * then runs as the container ids the plan names, since an unmapped id
     * cannot create files (EOVERFLOW). */
    const struct rec *s = plan_find(p, "setupids");
    if (s) {
      if (setresgid((gid_t)num(s->argv[1]), (gid_t)num(s->argv[1]), (gid_t)num(s->argv[1])) < 0)
        die(errno, "setup ids", "setresgid %s", s->argv[1]);
      if (setresuid((uid_t)num(s->argv[0]), (uid_t)num(s->argv[0]), (uid_t)num(s->argv[0])) < 0)
        die(errno, "setup ids", "setresuid %s", s->argv[0]);
    }
    /* The maps are written: nothing needs our /proc files any more (an id
     * change leaves dumpability to fs.suid_dumpable, so set it either way). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  close(pp->maps_r);
  /* In the container's user namespace, before the fork: C2 inherits it. */
  join_keyring(p);

  pid_t c2 = fork();
  if (c2 < 0) die(errno, "fork", "container process");
  if (c2 == 0) run_c2(p, pp);
  if (fakeroot_sock >= 0) close(fakeroot_sock); /* C2's now: EOF if it dies */
  close(pp->go_r);
  if (pp->tty_w >= 0) close(pp->tty_w);
  if (userns_ino) say(pp->sync_w, "pid %d %llu\n", c2, userns_ino);
  else say(pp->sync_w, "pid %d\n", c2);
  close(pp->sync_w);
  /* Stay until R says so: C2's PDEATHSIG points at us. */
  char c;
  while (read(pp->hold_r, &c, 1) < 0 && errno == EINTR) {}
  _exit(0);
}
