/* Fake root's filter (src/container/fakeroot.ts decides everything):
 *   `seccomp HEX`      a struct sock_filter[] to install right before execve;
 *   `fakeids RULE...`  AUDIT_ARCH:NR:OP:WIDTH, the calls the filter hands to
 *                      the supervisor (supervisor.c, SECCOMP_RET_USER_NOTIF).
 * The filter answers device mknod with 0 by itself; the id calls need memory
 * (a program that calls setresuid(42) and then getuid() must see 42: apt's
 * download sandbox checks exactly that), which the supervisor keeps, and
 * chown needs the file found (the supervisor clears what a real chown
 * clears). Here: installing the filter in C2 and handing its listener over. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Installing a filter needs no_new_privs or CAP_SYS_ADMIN in our user
 * namespace. After setresuid to a non-zero uid the effective set is empty
 * (the permitted set is kept), so raise CAP_SYS_ADMIN for this one call; the
 * final capset that follows in exec_container decides what the container
 * really gets. */
void raise_sys_admin(void) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) return;
  unsigned bit = 1U << (CAP_SYS_ADMIN % 32);
  int i = CAP_SYS_ADMIN / 32;
  if (!(d[i].permitted & bit) || (d[i].effective & bit)) return;
  d[i].effective |= bit;
  syscall(SYS_capset, &h, d);
}

int fakeroot_sock = -1;

/* The credentials the container process starts with, as "RUID EUID SUID
 * RGID EGID SGID N GID..." (the supervisor cannot ask: it is in another user
 * namespace). Read BEFORE the filter exists: afterwards these very calls
 * would wait for the supervisor, which waits for this message. */
static int creds_text(char *text, size_t size) {
  uid_t u[3];
  gid_t g[3], list[256];
  getresuid(&u[0], &u[1], &u[2]);
  getresgid(&g[0], &g[1], &g[2]);
  int n = getgroups(256, list);
  if (n < 0) n = 0;
  int len = snprintf(text, size, "%u %u %u %u %u %u %d", u[0], u[1], u[2], g[0], g[1], g[2], n);
  for (int i = 0; i < n && len < (int)size - 16; i++) len += snprintf(text + len, size - (size_t)len, " %u", list[i]);
  return len;
}

/* The listener fd, with TEXT (creds_text) as the payload. */
static int send_listener(int sock, int fd, char *text, int len) {
  return send_with_fd(sock, fd, text, (size_t)len + 1) == (ssize_t)len + 1 ? 0 : -1;
}

/* exec_container closes every fd from KEEP up: move the socket to KEEP and
 * return the new first fd to close. */
unsigned int fakeroot_keep_fd(unsigned int keep) {
  if (fakeroot_sock < 0) return keep;
  if ((unsigned)fakeroot_sock != keep) {
    if (dup3(fakeroot_sock, (int)keep, O_CLOEXEC) < 0) die(errno, "fakeroot", "move socket");
    close(fakeroot_sock);
    fakeroot_sock = (int)keep;
  }
  return keep + 1;
}

void install_seccomp(const struct plan *p) {
  const struct rec *r = plan_find(p, "seccomp");
  if (!r) return;
  const char *hex = r->argv[0];
  size_t len = strlen(hex);
  if (len == 0 || len % 16) die(0, "fakeroot", "seccomp program of %zu hex digits", len);
  unsigned char *bytes = malloc(len / 2);
  if (!bytes) die(ENOMEM, "fakeroot", "seccomp program");
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die(0, "fakeroot", "seccomp program is not hex");
    bytes[i] = (unsigned char)(hi << 4 | lo);
  }
  /* Same layout as struct sock_filter on a little-endian host (code u16, jt,
   * jf u8, k u32): TypeScript wrote it that way. */
  struct sock_fprog prog = { (unsigned short)(len / 16), (struct sock_filter *)bytes };
  raise_sys_admin();
  if (fakeroot_sock < 0) {
    /* No id calls to answer (no `fakeids`): the filter alone. */
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) die(errno, "fakeroot", "install seccomp filter");
  } else {
    char text[4096];
    int len = creds_text(text, sizeof text);
    int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) die(errno, "fakeroot", "install seccomp filter");
    if (send_listener(fakeroot_sock, listener, text, len) < 0) die(errno, "fakeroot", "hand the filter to its supervisor");
    close(listener);
    close(fakeroot_sock);
    fakeroot_sock = -1;
  }
  free(bytes);
}
