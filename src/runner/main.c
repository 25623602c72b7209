/* ch-run-oci runner, process R.
 *   ch-run-oci-runner create|exec PLAN_FD REPORT_FD
 *   ch-run-oci-runner procs ...   (see procs.c)
 * Reads the plan from PLAN_FD to EOF, builds the container through C1 (which
 * enters the namespaces) and C2 (the container process), then writes one line
 * to REPORT_FD: "ok PID [USERNS]" (PID as the caller sees it, USERNS the inode
 * of the container's user namespace for create) or "error STEP: ...", after
 * "pid PID" as soon as the container process exists.
 * Without "wait" in the plan R exits right after; with it R stays as a
 * subreaper, forwards SIGINT/SIGTERM/SIGHUP to the container and exits with
 * its status mapped like a shell (code, or 128+signal).
 *
 * No process may outlive a failed create: C1 has PDEATHSIG on R, C2 has
 * PDEATHSIG on C1 until R has reported "ok", and C2 exits when the "go" pipe
 * that only R holds reaches EOF. R kills both on every error path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

extern char **environ;

static pid_t c1 = -1, c2 = -1;
static char fifo_path[4096];
static int fifo_made;

/* Called by die() in R: nothing of the half-built container may remain. */
static void cleanup(void) {
  if (c2 > 0) kill(c2, SIGKILL);
  if (c1 > 0) {
    kill(c1, SIGKILL);
    while (waitpid(c1, NULL, 0) < 0 && errno == EINTR) {}
  }
  if (fifo_made) unlink(fifo_path);
}

/* A plan larger than this is not one TypeScript wrote. */
#define PLAN_MAX_BYTES (256u << 20)

static char *read_all(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) die(ENOMEM, "plan", "read");
    if (n == cap) {
      if (cap >= PLAN_MAX_BYTES) die(EFBIG, "plan", "more than %u bytes", PLAN_MAX_BYTES);
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) die(ENOMEM, "plan", "read");
      buf = bigger;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die(errno, "plan", "read fd %d", fd);
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

static void write_file(const char *path, const char *text, const char *step) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(errno, step, "open %s", path);
  size_t len = strlen(text);
  ssize_t w = write(fd, text, len);
  if (w < 0 || (size_t)w != len) die(w < 0 ? errno : EIO, step, "write %s", path);
  close(fd);
}

/* The id maps of C1's user namespace, written from R: R is still in the
 * caller's namespace, so a caller with CAP_SETUID/CAP_SETGID there may map
 * ranges; an ordinary caller may map only its own ids (setgroups "deny"). */
static void write_maps(const struct plan *p) {
  char path[64];
  const struct rec *sg = plan_find(p, "setgroups");
  const struct rec *um = plan_find(p, "uidmap");
  const struct rec *gm = plan_find(p, "gidmap");
  if (sg) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", c1);
    write_file(path, sg->argv[0], "setgroups");
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", c1);
  if (um) write_file(path, um->argv[0], "uid_map");
  snprintf(path, sizeof path, "/proc/%d/gid_map", c1);
  if (gm) write_file(path, gm->argv[0], "gid_map");
}

/* The hook pause (hooks.c): C2 waits while the caller runs its hooks, then
 * gets "resume LEN" + LEN bytes of state from the caller as "LEN\n" + bytes. */
static void relay_hook_pause(int report_fd, int go_w) {
  char line[64];
  say(report_fd, "hooks\n");
  ssize_t n = read_line(report_fd, line, sizeof line);
  if (n <= 0 || strncmp(line, "resume ", 7)) die(0, "runner", "the caller did not resume after the hooks");
  size_t len = strtoul(line + 7, NULL, 10);
  char head[32];
  snprintf(head, sizeof head, "%zu\n", len);
  if (write(go_w, head, strlen(head)) != (ssize_t)strlen(head)) die(errno, "runner", "resume container process");
  char buf[65536];
  while (len > 0) {
    ssize_t r = read(report_fd, buf, len < sizeof buf ? len : sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die(0, "runner", "the caller's state ended early");
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(go_w, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die(errno, "runner", "resume container process");
      off += w;
    }
    len -= (size_t)r;
  }
}

static void forward(int sig) {
  if (c2 > 0) kill(c2, sig);
}

/* Wait mode: R is the subreaper; reap everything, exit with C2's status.
 * With a terminal and no console socket R relays the pty meanwhile (tty.c). */
static void __attribute__((noreturn)) wait_container(int master) {
  if (master >= 0) _exit(tty_relay(master, c2));
  struct sigaction sa = { .sa_handler = forward };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
  for (;;) {
    int st;
    pid_t w = waitpid(-1, &st, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) _exit(255); /* cannot happen while C2 lives: it is our child */
    if (w != c2) continue;
    if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
    _exit(128 + WTERMSIG(st));
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "procs")) return procs_main(argc - 1, argv + 1);
  if (argc > 3 && !strcmp(argv[1], "hook-exec")) {
    /* The hooks ch-run-oci runs itself (container/hook-run.ts): Node cannot
     * close the fds it inherited from its own caller, so this does, and
     * becomes the hook with its env as given. */
    syscall(SYS_close_range, 3, ~0U, 0);
    execve(argv[2], argv + 3, environ);
    fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
    return 127;
  }
  if (argc != 4 || (strcmp(argv[1], "create") && strcmp(argv[1], "exec"))) {
    fprintf(stderr, "usage: %s create|exec PLAN_FD REPORT_FD\n", argv[0]);
    return 2;
  }
  int plan_fd = atoi(argv[2]), report_fd = atoi(argv[3]);
  report_to(report_fd);
  die_hook = cleanup;
  /* launch.ts's layout: stdio, the preserved fds 3..PLAN_FD-1, the plan,
   * the report. Anything above was left open by whoever ran ch-run-oci (a
   * shell's `exec 40<file`; Node marks only its own fds close-on-exec): it
   * goes before any stage forks, so neither C1, the fake-root supervisor nor
   * the container waiting on its fifo ever holds it. */
  if (plan_fd < 3 || report_fd != plan_fd + 1)
    die(0, "runner", "fds %d and %d: expected the plan fd from 3, the report fd next", plan_fd, report_fd);
  if (syscall(SYS_close_range, (unsigned)report_fd + 1, ~0U, 0) < 0) die(errno, "runner", "close inherited fds");
  /* A caller that dies before our report takes the half-built container
   * with it (C1 and C2 follow through their own PDEATHSIG). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die(errno, "runner", "prctl PDEATHSIG");
  /* EPIPE instead of a silent death when a child is gone; C1 restores it. */
  signal(SIGPIPE, SIG_IGN);
  /* Neither fd may reach the container. */
  if (fcntl(plan_fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(report_fd, F_SETFD, FD_CLOEXEC) < 0)
    die(errno, "runner", "fds %d and %d", plan_fd, report_fd);

  size_t len;
  char *buf = read_all(plan_fd, &len);
  close(plan_fd);
  struct plan p;
  if (plan_parse(buf, len, &p) < 0) die(0, "plan", "malformed plan (runner and ch-run-oci versions differ?)");
  /* The fds between stdio and the plan are exactly the ones the plan preserves. */
  const struct rec *pre = plan_find(&p, "preserve");
  if (3 + (pre ? (long long)num(pre->argv[0]) : 0) != plan_fd)
    die(0, "plan", "preserves %s fds, but the plan fd is %d", pre ? pre->argv[0] : "0", plan_fd);

  int wait_mode = plan_find(&p, "wait") != NULL;
  if (wait_mode && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die(errno, "subreaper", "prctl");

  /* create: the fifo `start` opens; exec runs the process right away. */
  const struct rec *fifo = plan_find(&p, "fifo");
  if (!strcmp(argv[1], "create") && !fifo) die(0, "plan", "no fifo directory");
  if (fifo) {
    snprintf(fifo_path, sizeof fifo_path, "%s/exec.fifo", fifo->argv[0]);
    if (mkfifo(fifo_path, 0600) < 0) die(errno, "fifo", "mkfifo %s", fifo_path);
    fifo_made = 1;
    /* The container waits on the fifo as its set-up ids when ours are not mapped. */
    const struct rec *s = plan_find(&p, "setupids");
    if (s && chown(fifo_path, (uid_t)num(s->argv[2]), (gid_t)num(s->argv[3])) < 0)
      die(errno, "fifo", "chown %s to %s:%s", fifo_path, s->argv[2], s->argv[3]);
  }

  /* The console socket is the caller's path: connected here, in the
   * caller's namespaces, before anything of the container exists. */
  const struct rec *term = plan_find(&p, "terminal");
  const struct rec *cs = plan_find(&p, "console-socket");
  int console = cs ? tty_connect(cs->argv[0]) : -1;
  if (term && !cs && !wait_mode) die(0, "plan", "a terminal without a console socket needs wait");

  struct pipes pp;
  int fds[10] = { [8] = -1, [9] = -1 };
  for (int i = 0; i < 4; i++)
    if (pipe2(fds + 2 * i, O_CLOEXEC) < 0) die(errno, "pipe", "sync");
  if (term && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds + 8) < 0) die(errno, "terminal", "socketpair");
  pp = (struct pipes){ fds[0], fds[1], fds[2], fds[3], fds[4], fds[5], fds[6], fds[7], fds[8], fds[9] };

  pid_t self = getpid();
  c1 = fork();
  if (c1 < 0) die(errno, "fork", "namespace process");
  if (c1 == 0) {
    close(report_fd);
    if (console >= 0) close(console); /* the caller's socket: R's alone */
    run_c1(&p, &pp, self);
  }
  close(pp.sync_w);
  close(pp.maps_r);
  close(pp.go_r);
  close(pp.hold_r);
  if (pp.tty_w >= 0) close(pp.tty_w);

  char line[4096], userns[32] = "";
  int ok = 0, hooks_pending = 0;
  for (;;) {
    ssize_t n = read_line(pp.sync_r, line, sizeof line);
    if (n <= 0) die(0, "runner", "the container process exited during setup");
    if (!strncmp(line, "note ", 5) || !strncmp(line, "hook-out ", 9) || !strcmp(line, "hooks-done")) {
      say(report_fd, "%s\n", line);
    } else if (!strcmp(line, "hooks")) {
      /* The caller's hooks need the pid: C1's "pid" line may still be on its way. */
      if (c2 > 0) relay_hook_pause(report_fd, pp.go_w);
      else hooks_pending = 1;
    } else if (!strncmp(line, "error ", 6)) {
      die_hook = NULL;
      cleanup();
      say(report_fd, "%s\n", line);
      _exit(1);
    } else if (!strcmp(line, "unshared")) {
      write_maps(&p);
      if (write(pp.maps_w, "1", 1) != 1) die(errno, "runner", "release namespace process");
      close(pp.maps_w);
    } else if (!strncmp(line, "pid ", 4)) {
      char *end;
      c2 = (pid_t)strtol(line + 4, &end, 10);
      if (*end == ' ') snprintf(userns, sizeof userns, " %s", end + 1);
      /* At once, not with "ok": a C2 stopped (SIGSTOP) before its PDEATHSIG
       * was set outlives us, and the caller must then kill it by pid. */
      say(report_fd, "pid %d\n", c2);
      if (hooks_pending) relay_hook_pause(report_fd, pp.go_w);
      hooks_pending = 0;
    } else if (!strcmp(line, "ok")) {
      ok = 1;
    }
    if (ok && c2 > 0) break;
  }

  /* Report, then wait until the caller has recorded the pid and answers
   * "go" on the same socket: a caller killed before that takes the whole
   * tree with it (PDEATHSIG is still set), so no container process ever
   * lives without a recorded pid. Then let C2 detach and say so: until
   * "detached" the caller must stay, or the PDEATHSIG chain would fire. */
  /* The master (sent before C2's "ok"): to the console socket before create
   * returns, as runc does; kept for the relay otherwise. */
  int master = -1;
  if (term) {
    master = tty_receive(pp.tty_r);
    close(pp.tty_r);
    if (console >= 0) {
      tty_send(console, master);
      close(master);
      close(console);
      master = -1;
    } else tty_size_from_stdin(master);
  }
  say(report_fd, "ok %d%s\n", c2, userns);
  ssize_t n = read_line(report_fd, line, sizeof line);
  if (n <= 0 || strcmp(line, "go")) die(0, "runner", "the caller did not confirm the container pid");
  /* Before C2 runs anything of the container (it waits for "go"), after the
   * caller wrote the cgroup limits: a real-time policy needs the cpu
   * controller's rt_runtime_us that linux.resources sets. */
  apply_sched(&p, c2);
  if (prctl(PR_SET_PDEATHSIG, 0) < 0) die(errno, "runner", "prctl PDEATHSIG"); /* the container exists now: the caller owns it */
  if (write(pp.go_w, "g", 1) != 1) die(errno, "runner", "release container");
  n = read_line(pp.sync_r, line, sizeof line);
  if (n <= 0 || strcmp(line, "ack")) die(0, "runner", "the container process exited before detaching");
  say(report_fd, "detached\n");
  close(report_fd);
  die_hook = NULL;
  report_to(2);
  /* C1 may go now; C2 is re-parented (to R in wait mode, R being a subreaper). */
  close(pp.hold_w);
  while (waitpid(c1, NULL, 0) < 0 && errno == EINTR) {}
  c1 = -1;
  if (wait_mode) wait_container(master);
  return 0;
}
