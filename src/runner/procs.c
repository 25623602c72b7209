/* The processes of a container, for ps, kill --all and delete:
 *   ch-run-oci-runner procs list PID START USERNS
 *   ch-run-oci-runner procs kill PID START USERNS SIGNAL WAIT_MS
 * PID and START name the container's first process (START: field 22 of its
 * /proc/PID/stat, as recorded), USERNS the inode of the container's user
 * namespace as create's report gave it (0: not known). `list` prints one pid
 * per line, the first process first; `kill` signals every process, scanning
 * again until a scan finds none it has not signalled (bounded), then waits up
 * to WAIT_MS for them to be gone. Nothing is printed when PID is no longer
 * the container's process.
 *
 * A process is the container's when its user namespace is the container's or
 * a descendant of it: a process that unshares a user namespace of its own
 * stays one; a sibling or an ancestor namespace never is. Node cannot ask the
 * kernel for a namespace's parent (ioctl NS_GET_PARENT), hence this mode.
 *
 * Inode numbers of namespaces are reused as soon as a namespace is freed, so
 * a number is only compared while something pins its namespace: the
 * container's is held as an fd, opened while PID was verified to be the
 * container's process; every candidate's chain is walked through fds.
 * Processes are signalled through a pidfd opened before their namespace was
 * read and checked alive after, so a pid reused meanwhile is never hit.
 *
 * The one exception: a container's first process before execve is not
 * dumpable (child.c), so an unprivileged caller cannot open its namespace.
 * Then the recorded inode is the target, and each comparison counts only if
 * the first process (which pins that namespace) is still alive after it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

/* A process found at a pid: a pidfd when the kernel has them (5.3+),
 * otherwise the start time tells a reused pid apart (with a small race). */
struct proc {
  pid_t pid;
  int pidfd;
  unsigned long long start;
  char state;
};

static int have_pidfd = 1;

/* State and start time from /proc/PID/stat; -1 when there is no such process. */
static int read_stat(pid_t pid, char *state, unsigned long long *start) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  /* The command name may hold spaces and ')': fields start after the last ')'. */
  char *s = strrchr(buf, ')');
  if (!s || s[1] != ' ') return -1;
  s += 2;
  *state = *s;
  for (int field = 3; field < 22; field++) {
    s = strchr(s, ' ');
    if (!s) return -1;
    s++;
  }
  *start = strtoull(s, NULL, 10);
  return 0;
}

static int proc_open(pid_t pid, struct proc *p) {
  p->pid = pid;
  p->pidfd = -1;
  if (have_pidfd) {
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (p->pidfd < 0 && errno == ENOSYS) have_pidfd = 0;
    else if (p->pidfd < 0) return -1;
  }
  if (read_stat(pid, &p->state, &p->start) < 0) {
    if (p->pidfd >= 0) close(p->pidfd);
    return -1;
  }
  return 0;
}

static void proc_close(struct proc *p) {
  if (p->pidfd >= 0) close(p->pidfd);
  p->pidfd = -1;
}

/* Still the process proc_open found (a zombie counts: it keeps its pid). */
static int proc_alive(const struct proc *p) {
  if (p->pidfd >= 0) return syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
  char state;
  unsigned long long start;
  return read_stat(p->pid, &state, &start) == 0 && start == p->start;
}

static int proc_signal(const struct proc *p, int sig) {
  if (p->pidfd >= 0) return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
  return kill(p->pid, sig);
}

/* An fd of the user namespace of the process at PID, or -1. */
static int userns_fd(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static unsigned long long ns_ino(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* The fd of the namespace at or above NS (consumed) whose inode is INO, or
 * -1. The kernel nests user namespaces at most 32 deep. */
static int ancestor(int ns, unsigned long long ino) {
  for (int depth = 0; ns >= 0 && depth <= 33; depth++) {
    if (ns_ino(ns) == ino) return ns;
    int parent = ioctl(ns, NS_GET_PARENT); /* EPERM past the caller's own namespace */
    close(ns);
    ns = parent;
  }
  if (ns >= 0) close(ns);
  return -1;
}

/* The container: its first process and its user namespace. */
struct target {
  struct proc first;
  int ns; /* held fd, or -1 (then `ino` is pinned by `first` only) */
  unsigned long long ino;
};

/* 1 when the process P belongs to the target, 0 when not (or it is gone). */
static int belongs(const struct target *t, const struct proc *p) {
  int ns = userns_fd(p->pid);
  if (ns < 0) return 0;
  /* The namespace read was P's if P still holds its pid now. */
  if (!proc_alive(p)) {
    close(ns);
    return 0;
  }
  int found = ancestor(ns, t->ino);
  if (found < 0) return 0;
  close(found);
  /* Without a held fd the inode meant the container's namespace only if the
   * first process pinned it all along. */
  return t->ns >= 0 || proc_alive(&t->first);
}

/* Calls FN for every process of the target but the first one. */
static void scan(const struct target *t, void (*fn)(const struct proc *, void *), void *arg) {
  DIR *d = opendir("/proc");
  if (!d) die(errno, "procs", "open /proc");
  pid_t self = getpid();
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || pid == self) continue;
    struct proc p;
    if (proc_open((pid_t)pid, &p) < 0) continue;
    int first = p.pid == t->first.pid && p.start == t->first.start;
    if (!first && belongs(t, &p)) fn(&p, arg);
    proc_close(&p);
  }
  closedir(d);
}

/* Finds the target; 0 when PID is not the container's process any more. */
static int find_target(struct target *t, pid_t pid, unsigned long long start, unsigned long long ino) {
  t->ns = -1;
  t->ino = ino;
  if (proc_open(pid, &t->first) < 0) return 0;
  if (t->first.start != start || t->first.state == 'Z' || t->first.state == 'X') return 0;
  int ns = userns_fd(pid);
  if (!proc_alive(&t->first)) {
    if (ns >= 0) close(ns);
    return 0;
  }
  if (ns < 0) return 1; /* not dumpable (see the top): the recorded inode, pinned by `first` */
  /* The first process may have moved into a namespace below the container's. */
  t->ns = ino ? ancestor(ns, ino) : ns;
  if (t->ns >= 0) t->ino = ns_ino(t->ns);
  else t->ino = 0; /* not below the recorded namespace: only the first process is known */
  return 1;
}

static void print_pid(const struct proc *p, void *arg) {
  (void)arg;
  printf("%d\n", p->pid);
}

/* What kill has signalled: pid and start time. */
struct seen {
  struct {
    pid_t pid;
    unsigned long long start;
  } * v;
  size_t n, cap;
  int sig;
  int fresh; /* signalled in this round */
};

static int was_seen(const struct seen *s, const struct proc *p) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].pid == p->pid && s->v[i].start == p->start) return 1;
  return 0;
}

static void signal_new(const struct proc *p, void *arg) {
  struct seen *s = arg;
  if (p->state == 'Z' || p->state == 'X' || was_seen(s, p)) return;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) die(ENOMEM, "procs", "signalled processes");
  }
  s->v[s->n].pid = p->pid;
  s->v[s->n].start = p->start;
  s->n++;
  s->fresh++;
  if (proc_signal(p, s->sig) < 0 && errno != ESRCH) die(errno, "procs", "signal %d", p->pid);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A process that forks as fast as it can still loses: every round kills (or
 * signals) what the last one missed. The bound covers one that ignores a
 * non-fatal signal and keeps forking. */
#define MAX_ROUNDS 100

static void kill_all(const struct target *t, int sig, long wait_ms) {
  struct seen s = { .sig = sig };
  /* The first process last: without a held fd it is what pins the namespace. */
  for (int round = 0; round < MAX_ROUNDS && t->ino; round++) {
    s.fresh = 0;
    scan(t, signal_new, &s);
    if (!s.fresh) break;
  }
  signal_new(&t->first, &s);
  long long deadline = now_ms() + wait_ms;
  for (size_t i = 0; i < s.n; i++) {
    for (;;) {
      char state;
      unsigned long long start;
      if (read_stat(s.v[i].pid, &state, &start) < 0 || start != s.v[i].start || state == 'Z' || state == 'X') break;
      if (now_ms() > deadline) return;
      struct timespec ts = { 0, 2000000 };
      nanosleep(&ts, NULL);
    }
  }
}

int procs_main(int argc, char **argv) {
  int list = argc == 5 && !strcmp(argv[1], "list");
  int kill_mode = argc == 7 && !strcmp(argv[1], "kill");
  if (!list && !kill_mode) {
    fprintf(stderr, "usage: ch-run-oci-runner procs list PID START USERNS | kill PID START USERNS SIGNAL WAIT_MS\n");
    return 2;
  }
  struct target t;
  if (!find_target(&t, (pid_t)num(argv[2]), num(argv[3]), num(argv[4]))) return 0;
  if (list) {
    printf("%d\n", t.first.pid);
    if (t.ino) scan(&t, print_pid, NULL);
  } else {
    kill_all(&t, (int)num(argv[5]), (long)num(argv[6]));
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
