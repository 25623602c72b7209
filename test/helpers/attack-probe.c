/* A static probe for the second security round (test/hardening/escapes-2.test.ts),
 * copied into a busybox rootfs (and run on the host for keyadd/reuse-victim).
 *   seize-watch SECONDS  for SECONDS, PTRACE_SEIZE every runtime helper (a
 *                        process still running the runner, before its execve)
 *                        that appears in the pid namespace; one line per try:
 *                        "EPERM|ERR PID helper", or "SEIZED PID helper" and exit
 *   seize PID            one PTRACE_SEIZE of PID: "seize=0" or "seize=-1 ERRNO"
 *   stopper              SIGSTOP every other process of the pid namespace as
 *                        soon as it appears, forever
 *   groups N same|distinct  N children each call setgroups(65536, LIST) (the
 *                        same list, or one differing per child) and stay; prints
 *                        "ok=K enomem=M other=O", waits for a line on stdin, then
 *                        checks getgroups of the first child and exits
 *   keyprobe NAME        "found" when a "user" key NAME is reachable from the
 *                        session keyring, else "absent ERRNO"
 *   keyadd NAME -- ARGV  (host) join a new session keyring, add key NAME to it,
 *                        exec ARGV
 *   keyput NAME          add a "user" key NAME to the session keyring we are in
 *   reuse-victim         (host) map a page at VICTIM_ADDR filled with 0xAA,
 *                        print "pid=N" and wait; after 6 s print "intact" or
 *                        "corrupted"
 *   reuse-target         call getresuid() with pointers into VICTIM_ADDR (so a
 *                        fake-root supervisor answers by writing there); never
 *                        returns while the supervisor is held */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VICTIM_ADDR ((void *)0x5a5a00000000ull)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void cmdline(int pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  FILE *f = fopen(path, "r");
  buf[0] = '\0';
  if (!f) return;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* The runtime's helper runs as /proc/PID/fd/N (an unnamed copy) until execve. */
static int is_helper(const char *argv0) {
  return !strncmp(argv0, "/proc/", 6) && strstr(argv0, "/fd/");
}

static int seize_watch(double seconds) {
  char seen[65536] = { 0 };
  int self = getpid(), parent = getppid();
  double end = now() + seconds;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (now() < end) {
    DIR *d = opendir("/proc");
    if (!d) return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 1 || pid == self || pid == parent || pid >= 65536 || seen[pid]) continue;
      char before[256];
      cmdline(pid, before, sizeof before);
      if (!before[0]) continue; /* not readable yet: look again */
      seen[pid] = 1;
      /* Only the runtime's helpers: a program the container runs is its own
       * to trace (and a tracer holds its tracee's exit status). */
      if (!is_helper(before)) continue;
      long r = ptrace(PTRACE_SEIZE, pid, 0, 0);
      int err = errno;
      if (r == 0) {
        /* Exiting detaches: the helper goes on (or is killed by its runtime). */
        printf("SEIZED %d helper\n", pid);
        return 0;
      }
      printf("%s %d helper\n", err == EPERM ? "EPERM" : "ERR", pid);
    }
    closedir(d);
  }
  return 0;
}

static void __attribute__((noreturn)) stopper(void) {
  int self = getpid();
  for (;;) {
    for (int pid = 2; pid < 256; pid++)
      if (pid != self) kill(pid, SIGSTOP);
    usleep(200);
  }
}

#define NG 65536

static int groups(int n, int distinct) {
  gid_t *list = malloc(NG * sizeof *list);
  if (!list) return 1;
  for (int i = 0; i < NG; i++) list[i] = (gid_t)(1000 + i);
  int pipes[2];
  if (pipe(pipes) < 0) return 1;
  pid_t *kids = calloc((size_t)n, sizeof *kids);
  for (int k = 0; k < n; k++) {
    pid_t c = fork();
    if (c < 0) return 1;
    if (c == 0) {
      close(pipes[0]);
      if (distinct) list[0] = (gid_t)(5000000 + k); /* one page differs per child */
      char res = setgroups(NG, list) == 0 ? 'o' : errno == ENOMEM ? 'm' : 'x';
      if (write(pipes[1], &res, 1) != 1) _exit(1);
      pause();
      _exit(0);
    }
    kids[k] = c;
  }
  close(pipes[1]);
  int ok = 0, nomem = 0, other = 0;
  for (int k = 0; k < n; k++) {
    char res;
    if (read(pipes[0], &res, 1) != 1) break;
    if (res == 'o') ok++;
    else if (res == 'm') nomem++;
    else other++;
  }
  printf("ok=%d enomem=%d other=%d\n", ok, nomem, other);
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) { /* EOF: go on */
  }
  for (int k = 0; k < n; k++) kill(kids[k], SIGKILL);
  while (wait(NULL) > 0) {}
  /* A fresh child: its own list, read back through the supervisor. */
  pid_t c = fork();
  if (c == 0) {
    gid_t small[3] = { 7, 8, 9 }, back[8];
    if (setgroups(3, small) < 0) _exit(2);
    int got = getgroups(8, back);
    _exit(got == 3 && back[0] == 7 && back[2] == 9 ? 0 : 3);
  }
  int st;
  waitpid(c, &st, 0);
  printf("small-list=%s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "wrong");
  return 0;
}

static int keyprobe(const char *name) {
  long k = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", name, 0);
  if (k >= 0) printf("found\n");
  else printf("absent %s\n", strerrorname_np(errno));
  return 0;
}

static int keyadd(const char *name, char **argv) {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0) {
    perror("join");
    return 1;
  }
  if (syscall(SYS_add_key, "user", name, "secret", 6, KEY_SPEC_SESSION_KEYRING) < 0) {
    perror("add_key");
    return 1;
  }
  execvp(argv[0], argv);
  perror("exec");
  return 127;
}

static int keyput(const char *name) {
  long k = syscall(SYS_add_key, "user", name, "inside", 6, KEY_SPEC_SESSION_KEYRING);
  printf(k >= 0 ? "added\n" : "add failed\n");
  return k >= 0 ? 0 : 1;
}

static int reuse_victim(void) {
  unsigned char *p = mmap(VICTIM_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memset(p, 0xAA, 4096);
  printf("pid=%d\n", getpid());
  fflush(stdout);
  sleep(6);
  for (int i = 0; i < 4096; i++)
    if (p[i] != 0xAA) {
      printf("corrupted\n");
      return 0;
    }
  printf("intact\n");
  return 0;
}

static int reuse_target(void) {
  unsigned char *p = mmap(VICTIM_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  uid_t *ids = (uid_t *)p;
  getresuid(&ids[0], &ids[1], &ids[2]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "seize-watch") && argc == 3) return seize_watch(atof(argv[2]));
  if (!strcmp(cmd, "seize") && argc == 3) {
    long r = ptrace(PTRACE_SEIZE, atoi(argv[2]), 0, 0);
    if (r == 0) printf("seize=0\n");
    else printf("seize=-1 %s\n", strerrorname_np(errno));
    return 0;
  }
  if (!strcmp(cmd, "stopper")) stopper();
  if (!strcmp(cmd, "groups") && argc == 4) return groups(atoi(argv[2]), !strcmp(argv[3], "distinct"));
  if (!strcmp(cmd, "keyprobe") && argc == 3) return keyprobe(argv[2]);
  if (!strcmp(cmd, "keyput") && argc == 3) return keyput(argv[2]);
  if (!strcmp(cmd, "keyadd") && argc >= 5 && !strcmp(argv[3], "--")) return keyadd(argv[2], argv + 4);
  if (!strcmp(cmd, "reuse-victim")) return reuse_victim();
  if (!strcmp(cmd, "reuse-target")) return reuse_target();
  return 2;
}
