/*
 * Runs one hardening case as a child subreaper, so every process the case
 * leaves behind (a container re-parented after `create`, a runner orphaned by
 * a killed `create`) becomes our child and can be counted, then killed.
 *
 * usage: harden-reaper OUTDIR TIMEOUT_MS GRACE_MS STEP [;; STEP]...
 *   STEP: [@kill=MS] [@ifok] ARGV...
 *     @kill=MS  SIGKILL the step's process MS ms after it started (if still alive)
 *     @ifok     run only if the previous step exited 0 (else status "skipped")
 * Step i writes OUTDIR/i.out, OUTDIR/i.err and OUTDIR/i.status ("exit N",
 * "signal N", "timeout", "killed" or "skipped"); stdin is /dev/null.
 * Then we wait up to GRACE_MS for our remaining children to exit; whatever
 * still lives is listed in OUTDIR/leftover ("PID CMDLINE" lines) and killed.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void put(const char *dir, int i, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%d.%s", dir, i, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* Reaps every exited child; returns 1 when `pid` was among them (status in *st). */
static int reap(pid_t pid, int *st) {
  int found = 0, s;
  pid_t w;
  while ((w = waitpid(-1, &s, WNOHANG)) > 0)
    if (w == pid) {
      *st = s;
      found = 1;
    }
  return found;
}

/* Our live (non-zombie) children, from /proc/PID/stat field 4. */
static int children(pid_t *out, int max) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  char path[64], buf[1024];
  while (d && (e = readdir(d)) && n < max) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = 0;
    char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (p && sscanf(p + 2, "%c %d", &state, &ppid) == 2 && ppid == getpid() && state != 'Z') out[n++] = pid;
  }
  if (d) closedir(d);
  return n;
}

static void cmdline(pid_t pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY);
  ssize_t r = fd < 0 ? 0 : read(fd, buf, size - 1);
  if (fd >= 0) close(fd);
  if (r < 0) r = 0;
  for (ssize_t k = 0; k < r; k++)
    if (buf[k] == 0 || buf[k] == '\n') buf[k] = ' ';
  buf[r] = 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: harden-reaper OUTDIR TIMEOUT_MS GRACE_MS STEP [;; STEP]...\n");
    return 2;
  }
  const char *dir = argv[1];
  long timeout = atol(argv[2]), grace = atol(argv[3]);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("prctl");
    return 2;
  }
  /* Nothing we run may be killed by our own death signal set-up: none. */
  int last = 0, step = 0;
  for (int a = 4; a < argc; step++) {
    int end = a;
    while (end < argc && strcmp(argv[end], ";;")) end++;
    long kill_ms = -1;
    int ifok = 0;
    while (a < end && argv[a][0] == '@') {
      if (!strncmp(argv[a], "@kill=", 6)) kill_ms = atol(argv[a] + 6);
      else if (!strcmp(argv[a], "@ifok")) ifok = 1;
      a++;
    }
    char **sargv = argv + a;
    argv[end < argc ? end : argc] = NULL;
    int next = end + 1;
    if (ifok && last != 0) {
      put(dir, step, "status", "skipped\n");
      last = -1;
      a = next;
      continue;
    }
    char out[4096], err[4096];
    snprintf(out, sizeof out, "%s/%d.out", dir, step);
    snprintf(err, sizeof err, "%s/%d.err", dir, step);
    long t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
      int in = open("/dev/null", O_RDONLY);
      int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || o < 0 || e < 0) _exit(125);
      dup2(in, 0);
      dup2(o, 1);
      dup2(e, 2);
      closefrom(3);
      execvp(sargv[0], sargv);
      _exit(127);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int st = 0, done = 0, killed = 0, timed_out = 0;
    while (!done) {
      long t = now_ms() - t0;
      long wait_for = timeout - t;
      if (kill_ms >= 0 && !killed) wait_for = kill_ms - t;
      if (wait_for < 0) wait_for = 0;
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      poll(&p, 1, (int)(wait_for > 50 ? 50 : wait_for));
      if (reap(pid, &st)) {
        done = 1;
        break;
      }
      t = now_ms() - t0;
      if (kill_ms >= 0 && !killed && t >= kill_ms) {
        kill(pid, SIGKILL);
        killed = 1;
      } else if (t >= timeout) {
        kill(pid, SIGKILL);
        timed_out = 1;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        done = 1;
      }
    }
    close(pidfd);
    char text[64];
    if (timed_out) snprintf(text, sizeof text, "timeout\n");
    else if (killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) snprintf(text, sizeof text, "killed %ld\n", now_ms() - t0);
    else if (WIFEXITED(st)) snprintf(text, sizeof text, "exit %d\n", WEXITSTATUS(st));
    else snprintf(text, sizeof text, "signal %d\n", WTERMSIG(st));
    put(dir, step, "status", text);
    last = WIFEXITED(st) && !timed_out ? WEXITSTATUS(st) : -1;
    a = next;
  }

  /* Whatever is still our child after the grace period was left behind. */
  char path[4096];
  snprintf(path, sizeof path, "%s/leftover", dir);
  FILE *lf = fopen(path, "w");
  long deadline = now_ms() + grace;
  pid_t kids[256];
  int n;
  int dummy;
  for (;;) {
    reap(-2, &dummy);
    n = children(kids, 256);
    if (n == 0 || now_ms() >= deadline) break;
    usleep(5000);
  }
  for (int round = 0; n > 0 && round < 50; round++) {
    for (int k = 0; k < n; k++) {
      if (round == 0 && lf) {
        char cmd[512];
        cmdline(kids[k], cmd, sizeof cmd);
        fprintf(lf, "%d %s\n", kids[k], cmd);
      }
      kill(kids[k], SIGKILL);
    }
    usleep(10000);
    reap(-2, &dummy);
    n = children(kids, 256);
  }
  if (lf) fclose(lf);
  return 0;
}
