/*
 * Runs a few commands (a hardening case, or buildah's part in the lifecycle)
 * as a child subreaper, so every process they leave behind (a container
 * re-parented after `create`, a runner orphaned by a killed `create`)
 * becomes our child and can be waited for, counted, then killed.
 *
 * usage: subreaper OUTDIR TIMEOUT_MS GRACE_MS STEP [;; STEP]...
 *   STEP: [@kill=MS] [@ifok] [@pipe] [@children] ARGV...  or  @reap=PIDFILE
 *     @kill=MS   SIGKILL the step's process MS ms after it started (if still alive)
 *     @ifok      run only if the previous step exited 0 (else status "skipped")
 *     @pipe      (one step at most) stdout and stderr are one pipe that we read
 *                after the last step, as buildah does: OUTDIR/pipe holds what
 *                came, OUTDIR/pipe.eof "yes", or "timeout" if someone else
 *                kept it open
 *     @children  after the step, list our children in OUTDIR/i.children
 *                ("PID COMM" lines)
 *     @reap=F    wait for the pid in file F, which must be our child (a
 *                container after `create`); status as for a command
 * Step i writes OUTDIR/i.out, OUTDIR/i.err and OUTDIR/i.status ("exit N",
 * "signal N", "timeout", "killed", "skipped" or "wait-failed"); stdin is
 * /dev/null. Then we wait up to GRACE_MS for our remaining children to exit;
 * whatever still lives is listed in OUTDIR/leftover ("PID CMDLINE" lines)
 * and killed.
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

/* Children reaped while we waited for another (an @reap step looks here first). */
static struct {
  pid_t pid;
  int status;
} reaped[256];
static int nreaped;

/* Reaps every exited child; returns 1 when `pid` was among them (status in *st). */
static int reap(pid_t pid, int *st) {
  int found = 0, s;
  pid_t w;
  while ((w = waitpid(-1, &s, WNOHANG)) > 0) {
    if (w == pid) {
      *st = s;
      found = 1;
    } else if (nreaped < 256) {
      reaped[nreaped].pid = w;
      reaped[nreaped++].status = s;
    }
  }
  return found;
}

/* Was `pid` reaped before? (status in *st) */
static int reaped_before(pid_t pid, int *st) {
  for (int k = 0; k < nreaped; k++)
    if (reaped[k].pid == pid) {
      *st = reaped[k].status;
      return 1;
    }
  return 0;
}

/* Reads the @pipe to EOF (5 s of silence: someone else holds it) into OUTDIR/pipe and pipe.eof. */
static void drain(const char *dir, int fd) {
  char path[4096], buf[4096];
  snprintf(path, sizeof path, "%s/pipe", dir);
  FILE *f = fopen(path, "w");
  const char *eof = "yes\n";
  struct pollfd p = { .fd = fd, .events = POLLIN };
  for (;;) {
    if (poll(&p, 1, 5000) <= 0) {
      eof = "timeout\n";
      break;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (f) fwrite(buf, 1, (size_t)n, f);
  }
  if (f) fclose(f);
  close(fd);
  snprintf(path, sizeof path, "%s/pipe.eof", dir);
  if ((f = fopen(path, "w"))) {
    fputs(eof, f);
    fclose(f);
  }
}

/* Waits up to TIMEOUT_MS for the pid in PIDFILE: 0 once reaped (status in *st), 1 on timeout, -1 when it is not our child. */
static int reap_pidfile(const char *pidfile, long timeout, int *st) {
  FILE *f = fopen(pidfile, "r");
  int pid = 0;
  if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
    if (f) fclose(f);
    return -1;
  }
  fclose(f);
  long end = now_ms() + timeout;
  for (;;) {
    if (reaped_before(pid, st)) return 0;
    pid_t w = waitpid(pid, st, WNOHANG);
    if (w == pid) return 0;
    if (w < 0) return -1;
    if (now_ms() >= end) return 1;
    usleep(5000);
  }
}

/*
 * Our children, from /proc/PID/stat field 4: the live ones into OUT (at most
 * MAX), or with LIST every one, zombies too, as "PID COMM" lines.
 */
static int children(pid_t *out, int max, FILE *list) {
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
    char *comm = strchr(buf, '('), *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (!comm || !p || sscanf(p + 2, "%c %d", &state, &ppid) != 2 || ppid != getpid()) continue;
    if (list) fprintf(list, "%d %.*s\n", pid, (int)(p - comm - 1), comm + 1);
    else if (state != 'Z') out[n++] = pid;
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
    fprintf(stderr, "usage: subreaper OUTDIR TIMEOUT_MS GRACE_MS STEP [;; STEP]...\n");
    return 2;
  }
  const char *dir = argv[1];
  long timeout = atol(argv[2]), grace = atol(argv[3]);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("prctl");
    return 2;
  }
  int last = 0, step = 0, pipe_rd = -1;
  for (int a = 4; a < argc; step++) {
    int end = a;
    while (end < argc && strcmp(argv[end], ";;")) end++;
    long kill_ms = -1;
    int ifok = 0, use_pipe = 0, list = 0;
    const char *reap_file = NULL;
    while (a < end && argv[a][0] == '@') {
      if (!strncmp(argv[a], "@kill=", 6)) kill_ms = atol(argv[a] + 6);
      else if (!strcmp(argv[a], "@ifok")) ifok = 1;
      else if (!strcmp(argv[a], "@pipe")) use_pipe = 1;
      else if (!strcmp(argv[a], "@children")) list = 1;
      else if (!strncmp(argv[a], "@reap=", 6)) reap_file = argv[a] + 6;
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
    if (reap_file) {
      int st = 0, r = reap_pidfile(reap_file, timeout, &st);
      char text[64];
      if (r < 0) snprintf(text, sizeof text, "wait-failed\n");
      else if (r > 0) snprintf(text, sizeof text, "timeout\n");
      else if (WIFEXITED(st)) snprintf(text, sizeof text, "exit %d\n", WEXITSTATUS(st));
      else snprintf(text, sizeof text, "signal %d\n", WTERMSIG(st));
      put(dir, step, "status", text);
      last = r == 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      a = next;
      continue;
    }
    int pipe_wr = -1;
    if (use_pipe && pipe_rd < 0) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("pipe2");
        return 2;
      }
      pipe_rd = fds[0];
      pipe_wr = fds[1];
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
      dup2(pipe_wr >= 0 ? pipe_wr : o, 1);
      dup2(pipe_wr >= 0 ? pipe_wr : e, 2);
      closefrom(3);
      execvp(sargv[0], sargv);
      _exit(127);
    }
    if (pipe_wr >= 0) close(pipe_wr); /* EOF comes when the step's processes let go */
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
    if (list) {
      char file[4096];
      snprintf(file, sizeof file, "%s/%d.children", dir, step);
      FILE *f = fopen(file, "w");
      if (f) {
        children(NULL, 1, f);
        fclose(f);
      }
    }
    last = WIFEXITED(st) && !timed_out ? WEXITSTATUS(st) : -1;
    a = next;
  }
  if (pipe_rd >= 0) drain(dir, pipe_rd);

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
    n = children(kids, 256, NULL);
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
    n = children(kids, 256, NULL);
  }
  if (lf) fclose(lf);
  return 0;
}
