/*
 * Plays buildah's part in the lifecycle, to test what buildah relies on:
 * it becomes a child subreaper, runs `create` with pipes as the container's
 * stdout/stderr, checks that create left exactly one process (the container,
 * now our child), runs `start`, wait4()s the pid from the pid file and checks
 * that the pipes reach EOF once the container is gone.
 *
 * usage: subreaper RUNTIME ROOT BUNDLE ID
 * prints key=value lines: create, children, start, status, output, eof.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Our children, read from /proc/PID/stat field 4 (ppid). */
static void print_children(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  char path[64], buf[512];
  printf("children=");
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    char state;
    int ppid;
    /* Fake root's supervisor (single-id containers) is re-parented to us
     * too; it is not a container process and buildah never waits for it. */
    if (strstr(buf, "(chroci-fakeroot)")) continue;
    if (p && sscanf(p + 2, "%c %d", &state, &ppid) == 2 && ppid == getpid()) printf("%d ", pid);
  }
  printf("\n");
  if (d) closedir(d);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: subreaper RUNTIME ROOT BUNDLE ID\n");
    return 2;
  }
  char *runtime = argv[1], *root = argv[2], *bundle = argv[3], *id = argv[4];
  char pidfile[4096];
  snprintf(pidfile, sizeof pidfile, "%s/subreaper.pid", bundle);
  setvbuf(stdout, NULL, _IONBF, 0);

  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("prctl");
    return 2;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) return 2;

  pid_t create = fork();
  if (create == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    char *args[] = { runtime, "--root", root, "create", "--bundle", bundle, "--pid-file", pidfile, id, NULL };
    execv(runtime, args);
    _exit(127);
  }
  close(out[1]);
  int status;
  waitpid(create, &status, 0);
  printf("create=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));

  FILE *pf = fopen(pidfile, "r");
  int pid = 0;
  if (!pf || fscanf(pf, "%d", &pid) != 1) {
    printf("pidfile=missing\n");
    return 1;
  }
  fclose(pf);
  printf("pid=%d\n", pid);
  print_children();

  char *start[] = { runtime, "--root", root, "start", id, NULL };
  printf("start=%d\n", run(start));

  if (waitpid(pid, &status, 0) != pid) {
    printf("status=wait-failed:%s\n", strerror(errno));
    return 1;
  }
  if (WIFEXITED(status)) printf("status=exit:%d\n", WEXITSTATUS(status));
  else printf("status=signal:%d\n", WTERMSIG(status));

  /* Everything the container wrote, then EOF: no one else may hold the pipe. */
  char buf[4096];
  size_t used = 0;
  struct pollfd p = { .fd = out[0], .events = POLLIN };
  for (;;) {
    int r = poll(&p, 1, 5000);
    if (r <= 0) {
      printf("eof=timeout\n");
      return 1;
    }
    ssize_t n = read(out[0], buf + used, sizeof buf - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
    if (used >= sizeof buf - 1) used = 0;
  }
  buf[used] = 0;
  for (char *c = buf; *c; c++)
    if (*c == '\n') *c = '|';
  printf("output=%s\n", buf);
  printf("eof=yes\n");
  return 0;
}
