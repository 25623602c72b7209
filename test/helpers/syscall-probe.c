/* A tiny static probe for the seccomp-profile tests (test/integration/seccomp.test.ts),
 * compiled by the test and copied into a busybox rootfs. Each argument is one
 * call, "NAME" or "NAME:ARG0:ARG1:..." (numbers in C notation, or a string
 * starting with '/' passed as a pointer); the call is made with syscall(2),
 * so the filter sees exactly those arguments. Prints one line per call:
 *   NAME=RET          on success
 *   NAME=-1 ERRNAME   on failure (e.g. EPERM, ENOSYS)
 * Special calls:
 *   bind80            socket(AF_INET, SOCK_STREAM) + bind to 0.0.0.0:80
 *   uid:N             setuid(N) before the calls that follow (needs CAP_SETUID)
 * A call the filter kills ends the probe with SIGSYS (status 159 in a shell). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
  const char *name;
  long nr;
} CALLS[] = {
  { "add_key", SYS_add_key },
  { "keyctl", SYS_keyctl },
  { "request_key", SYS_request_key },
  { "bpf", SYS_bpf },
  { "unshare", SYS_unshare },
  { "ptrace", SYS_ptrace },
  { "mkdir", SYS_mkdir },
  { "getppid", SYS_getppid },
  { "getpid", SYS_getpid },
  { "personality", SYS_personality },
  { "chown", SYS_chown },
  { "setuid", SYS_setuid },
  { "getuid", SYS_getuid },
  { "socket", SYS_socket },
  { "uname", SYS_uname },
  { "kexec_load", SYS_kexec_load },
  { "reboot", SYS_reboot },
  { "mount", SYS_mount },
  { "setns", SYS_setns },
  { "clone", SYS_clone },
  { "perf_event_open", SYS_perf_event_open },
  { "sched_yield", SYS_sched_yield },
};

static void result(const char *name, long r, int err) {
  if (r < 0) printf("%s=-1 %s\n", name, strerrorname_np(err));
  else printf("%s=%ld\n", name, r);
  fflush(stdout);
}

static long arg(const char *s) {
  return s[0] == '/' ? (long)s : (long)strtoull(s, NULL, 0);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *spec = strdup(argv[i]);
    char *name = strtok(spec, ":");
    long a[6] = { 0 };
    int n = 0;
    for (char *t; n < 6 && (t = strtok(NULL, ":")); n++) a[n] = arg(t);
    if (!strcmp(name, "bind80")) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
      long r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
      result(name, r, errno);
      continue;
    }
    if (!strcmp(name, "uid")) {
      long r = setuid((uid_t)a[0]);
      result(name, r, errno);
      continue;
    }
    long nr = -1;
    for (size_t k = 0; k < sizeof CALLS / sizeof CALLS[0]; k++)
      if (!strcmp(CALLS[k].name, name)) nr = CALLS[k].nr;
    if (nr < 0) {
      fprintf(stderr, "probe: unknown call %s\n", name);
      return 2;
    }
    errno = 0;
    long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    result(name, r, errno);
  }
  return 0;
}
