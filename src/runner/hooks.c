/* The hooks C2 runs itself (container/hooks.ts decides which), and the hook
 * pause of create:
 *   hook-pause CWD                               C2, after the mounts, before pivot_root:
 *                                                "hooks" to R (and so to create, which runs
 *                                                prestart and createRuntime as the caller), then
 *                                                reads "LEN\n" + LEN bytes from the go pipe: the
 *                                                state for createContainer and for startContainer,
 *                                                one JSON a line; runs createContainer (cwd CWD,
 *                                                still in the runtime's file system); "hooks-done"
 *   hook KIND LABEL TIMEOUT PATH NARGS ARG… ENV…  one hook (TIMEOUT seconds, 0: none)
 * startContainer runs at start, after pivot_root, once `start` opened the
 * exec fifo: the output and the result go to `start` through the fifo.
 *
 * A hook is a child of C2 in its own process group with exactly its env,
 * the state on stdin, stdout and stderr on one pipe that C2 relays as
 * "hook-out LABEL TEXT" lines, and no other fd (the exec fifo, the sync
 * pipes, the preserved fds all stay with C2). C2 stays non-dumpable: a hook
 * inside the container cannot trace it or open its /proc files. A timeout
 * kills the hook's process group. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

static char *state_creating, *state_created;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One line of output as a report line: control characters would forge lines or reach a terminal. */
static void emit(int out, const char *label, char *text, size_t n) {
  text[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)text[i] < 0x20 && text[i] != '\t') text[i] = '?';
    else if (text[i] == 0x7f) text[i] = '?';
  say(out, "hook-out %s %s\n", label, text);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

/* strerror's text in lower case, as die() writes it. */
static void errno_text(int e, char *buf, size_t size) {
  snprintf(buf, size, "%s", strerror(e));
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* Runs one `hook` record with STATE on its stdin, its output as lines on
 * OUT. Returns 0, or -1 with what went wrong in WHY (after the label). */
static int run_hook(const struct rec *r, const char *state, const char *cwd, int out, char *why, size_t whylen) {
  const char *label = r->argv[1], *path = r->argv[3];
  long timeout = atol(r->argv[2]);
  int nargs = atoi(r->argv[4]);
  if (nargs < 0 || 5 + nargs > r->argc) die(0, "plan", "bad hook record %s", label);
  char *fallback[2] = { (char *)path, NULL };
  char **argv = fallback;
  if (nargs > 0) {
    argv = calloc((size_t)nargs + 1, sizeof *argv);
    if (!argv) die(ENOMEM, label, "argv");
    for (int i = 0; i < nargs; i++) argv[i] = r->argv[5 + i];
  }
  int nenv = r->argc - 5 - nargs;
  char **envp = calloc((size_t)nenv + 1, sizeof *envp);
  if (!envp) die(ENOMEM, label, "env");
  for (int i = 0; i < nenv; i++) envp[i] = r->argv[5 + nargs + i];

  int in[2], outp[2], errp[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) die(errno, label, "pipe");
  pid_t pid = fork();
  if (pid < 0) die(errno, label, "fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(outp[1], 2) < 0) _exit(127);
    /* Nothing of ours but the exec-error pipe (close-on-exec) stays open. */
    int e = errp[1];
    if (e > 3) syscall(SYS_close_range, 3, e - 1, 0);
    syscall(SYS_close_range, e + 1, ~0U, 0);
    int bad[2] = { 0, 0 };
    if (cwd && chdir(cwd) < 0) bad[0] = errno, bad[1] = 1;
    else {
      execve(path, argv, envp);
      bad[0] = errno;
    }
    write_all(e, (const char *)bad, sizeof bad);
    _exit(127);
  }
  if (argv != fallback) free(argv);
  free(envp);
  close(in[0]);
  close(outp[1]);
  close(errp[1]);
  int bad[2] = { 0, 0 };
  ssize_t got;
  while ((got = read(errp[0], bad, sizeof bad)) < 0 && errno == EINTR) {}
  close(errp[0]);
  if (got == (ssize_t)sizeof bad) {
    close(in[1]);
    close(outp[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    char text[256];
    errno_text(bad[0], text, sizeof text);
    if (bad[1]) snprintf(why, whylen, "%s: chdir %s: %s", path, cwd, text);
    else snprintf(why, whylen, "%s: %s", path, text);
    return -1;
  }

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) die(errno, label, "pidfd_open");
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  fcntl(outp[0], F_SETFL, O_NONBLOCK);
  size_t slen = strlen(state), sent = 0;
  char line[2048];
  size_t ln = 0;
  long long deadline = timeout > 0 ? now_ms() + timeout * 1000LL : -1;
  int status = 0, exited = 0, timed_out = 0, outfd = outp[0], infd = in[1];
  for (;;) {
    if (exited && outfd < 0) break;
    /* Negative fds are skipped by poll. */
    struct pollfd f[3] = { { exited ? -1 : pidfd, POLLIN, 0 }, { outfd, POLLIN, 0 }, { infd, POLLOUT, 0 } };
    int wait_ms = -1;
    if (exited) wait_ms = 0; /* only what is already written */
    else if (deadline >= 0) {
      long long left = deadline - now_ms();
      wait_ms = left > 0 ? (int)left : 0;
    }
    int n = poll(f, 3, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(errno, label, "poll");
    if (n == 0) {
      if (exited) break; /* a process it left behind holds the pipe */
      if (wait_ms < 0) continue;
      timed_out = 1;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      break;
    }
    if (f[2].revents) {
      ssize_t w = write(infd, state + sent, slen - sent);
      if (w > 0) sent += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == slen) {
        close(infd);
        infd = -1;
      }
    }
    if (f[1].revents) {
      char buf[4096];
      ssize_t rd = read(outfd, buf, sizeof buf);
      if (rd == 0 || (rd < 0 && errno != EAGAIN && errno != EINTR)) {
        close(outfd);
        outfd = -1;
      }
      for (ssize_t i = 0; i < rd; i++) {
        if (buf[i] == '\n' || ln == sizeof line - 1) {
          emit(out, label, line, ln);
          ln = 0;
          if (buf[i] == '\n') continue;
        }
        line[ln++] = buf[i];
      }
    }
    if (f[0].revents & POLLIN) {
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      exited = 1;
      if (infd >= 0) close(infd);
      infd = -1;
    }
  }
  if (ln > 0) emit(out, label, line, ln);
  if (infd >= 0) close(infd);
  if (outfd >= 0) close(outfd);
  close(pidfd);
  if (timed_out) snprintf(why, whylen, "%s timed out after %ld s", path, timeout);
  else if (WIFSIGNALED(status)) {
    const char *name = sigabbrev_np(WTERMSIG(status));
    if (name) snprintf(why, whylen, "%s killed by SIG%s", path, name);
    else snprintf(why, whylen, "%s killed by signal %d", path, WTERMSIG(status));
  } else if (WEXITSTATUS(status) != 0) snprintf(why, whylen, "%s exited with status %d", path, WEXITSTATUS(status));
  else return 0;
  return -1;
}

/* Runs every hook of KIND in order; the first failure's label and reason.
 * A hook that leaves without reading its stdin must not kill us with SIGPIPE. */
static const char *run_kind(const struct plan *p, const char *kind, const char *state, const char *cwd, int out, char *why, size_t whylen) {
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old);
  const char *failed = NULL;
  for (int i = 0; i < p->n && !failed; i++) {
    const struct rec *r = &p->recs[i];
    if (strcmp(r->tag, "hook") || r->argc < 5 || strcmp(r->argv[0], kind)) continue;
    if (run_hook(r, state, cwd, out, why, whylen) < 0) failed = r->argv[1];
  }
  sigaction(SIGPIPE, &old, NULL);
  return failed;
}

void hooks_pause(const struct plan *p, int sync_w, int go_r) {
  const struct rec *pause = plan_find(p, "hook-pause");
  if (!pause) return;
  say(sync_w, "hooks\n");
  char head[32];
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(go_r, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1) _exit(1); /* R is gone: so is the create */
    if (c == '\n') break;
    if (n + 1 < sizeof head) head[n++] = c;
  }
  head[n] = '\0';
  size_t len = strtoul(head, NULL, 10);
  if (len > (64u << 20)) die(0, "hooks", "state of %zu bytes", len);
  char *buf = malloc(len + 1);
  if (!buf) die(ENOMEM, "hooks", "state");
  for (size_t got = 0; got < len;) {
    ssize_t r = read(go_r, buf + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(1);
    got += (size_t)r;
  }
  buf[len] = '\0';
  char *nl = strchr(buf, '\n');
  if (!nl) die(0, "hooks", "malformed state");
  *nl = '\0';
  state_creating = buf;
  state_created = nl + 1;
  char why[3072];
  const char *failed = run_kind(p, "createContainer", state_creating, pause->argv[0], sync_w, why, sizeof why);
  if (failed) die(0, failed, "%s", why);
  say(sync_w, "hooks-done\n");
}

void hooks_start(const struct plan *p, int fifo_fd) {
  if (!state_created) return;
  char why[3072];
  const char *failed = run_kind(p, "startContainer", state_created, "/", fifo_fd, why, sizeof why);
  if (failed) {
    for (char *c = why; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    say(fifo_fd, "error %s: %s\n", failed, why);
    _exit(1);
  }
}
