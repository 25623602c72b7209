/* Failure reporting. Every process of the runner writes its failure as one
 * line to a "sink": R writes to the report fd, C1/C2 to the sync pipe that R
 * reads (R then cleans up and forwards the line). After C2 detached from R
 * the sink is stderr, prefixed like the rest of ch-run-oci's messages. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner.h"

static int sink = 2;
static const char *prefix = "error ";
void (*die_hook)(void);

void report_to(int fd) {
  sink = fd;
  prefix = fd == 2 ? "ch-run-oci: " : "error ";
}

void say(int fd, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  /* One write per line: lines under PIPE_BUF never interleave in the pipe. */
  while (write(fd, buf, (size_t)n) < 0 && errno == EINTR) {}
}

/* Formats into BUF as one printable line: a line break would end the line
 * early and forge another report line (a config value, a syscall name…),
 * other control characters would reach a terminal. */
static void one_line(char *buf, size_t size, const char *fmt, va_list ap) {
  vsnprintf(buf, size, fmt, ap);
  for (char *c = buf; *c; c++)
    if (*c == '\n') *c = ' ';
    else if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
}

void die(int err, const char *step, const char *fmt, ...) {
  char detail[2048];
  va_list ap;
  va_start(ap, fmt);
  one_line(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (die_hook) die_hook();
  if (err) {
    /* Lower-case like Go's errno text, which podman's error matching expects. */
    char text[256];
    snprintf(text, sizeof text, "%s", strerror(err));
    text[0] = (char)tolower((unsigned char)text[0]);
    say(sink, "%s%s: %s: %s\n", prefix, step, detail, text);
  } else say(sink, "%s%s: %s\n", prefix, step, detail);
  _exit(1);
}

void note(const char *fmt, ...) {
  if (sink == 2) return; /* detached: nobody listens for notes any more */
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  one_line(text, sizeof text, fmt, ap);
  va_end(ap);
  say(sink, "note %s\n", text);
}

/* Reads one '\n'-terminated line (without the newline); 0 at EOF. */
ssize_t read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (c == '\n') {
      buf[n] = '\0';
      return (ssize_t)n + 1;
    }
    buf[n++] = c;
  }
  buf[n] = '\0';
  return (ssize_t)n;
}

/* Sends LEN bytes of DATA with FD attached (SCM_RIGHTS) over the unix socket
 * SOCK: the pty master to a console socket, the fake-root listener to its
 * supervisor. Returns what sendmsg returned (-1 with errno). */
ssize_t send_with_fd(int sock, int fd, const void *data, size_t len) {
  struct iovec iov = { (void *)data, len };
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  memset(&c, 0, sizeof c);
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  ssize_t n;
  while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  return n;
}
