/* HOME for a process whose environment has none, as runc and crun set it:
 * the home field of the first /etc/passwd entry with the process's uid, "/"
 * without one. Runs inside the container (after pivot_root, or after joining
 * its mount namespace for exec), so "/" is the container's root. The file is
 * the image's and hostile: it is resolved below that root without magic
 * links (no way out through /proc/self/fd/N or /proc/PID/root), must be a
 * regular file, is opened without blocking or taking a terminal, and only its
 * first PASSWD_MAX bytes are read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

#define PASSWD_MAX (1 << 20)

static int open_passwd(int flags) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, root, "etc/passwd", &how, sizeof how);
  int err = errno;
  close(root);
  errno = err;
  return fd;
}

static int regular(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file's first PASSWD_MAX bytes, NUL-terminated; NULL when it cannot be read. */
static char *read_passwd(size_t *len) {
  /* O_PATH first: a fifo or device planted as /etc/passwd is never opened. */
  int probe = open_passwd(O_PATH);
  if (probe < 0) return NULL;
  int ok = regular(probe);
  close(probe);
  if (!ok) return NULL;
  int fd = open_passwd(O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return NULL;
  char *buf = regular(fd) ? malloc(PASSWD_MAX + 1) : NULL; /* swapped in between: give up */
  size_t n = 0;
  while (buf && n < PASSWD_MAX) {
    ssize_t r = read(fd, buf + n, PASSWD_MAX - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

/* Field I (0-based) of the ':'-separated line [s, end), or NULL. */
static const char *field(const char *s, const char *end, int i, size_t *flen) {
  for (; i > 0; i--) {
    const char *c = memchr(s, ':', (size_t)(end - s));
    if (!c) return NULL;
    s = c + 1;
  }
  const char *c = memchr(s, ':', (size_t)(end - s));
  *flen = (size_t)((c ? c : end) - s);
  return s;
}

static int uid_is(const char *s, size_t n, uid_t uid) {
  if (n == 0 || n > 10) return 0;
  unsigned long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v == (unsigned long long)uid;
}

char *passwd_home(uid_t uid) {
  size_t len = 0;
  char *buf = read_passwd(&len);
  char *home = NULL;
  for (const char *line = buf; buf && line < buf + len && !home;) {
    const char *nl = memchr(line, '\n', (size_t)(buf + len - line));
    const char *end = nl ? nl : buf + len;
    size_t ulen, hlen;
    const char *u = field(line, end, 2, &ulen);
    const char *h = field(line, end, 5, &hlen);
    /* An entry with a NUL in it is not a passwd line. */
    if (u && h && uid_is(u, ulen, uid) && hlen > 0 && !memchr(line, '\0', (size_t)(end - line))) home = strndup(h, hlen);
    line = end + 1;
  }
  free(buf);
  return home ? home : strdup("/");
}
