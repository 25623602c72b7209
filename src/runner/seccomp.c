/* The fake-root filter: record `seccomp HEX`, a struct sock_filter[] generated
 * by src/container/fakeroot.ts. The runner only decodes and installs it; what
 * it matches is decided in TypeScript. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
 * final capset that follows decides what the container really gets. */
static void raise_sys_admin(void) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) return;
  unsigned bit = 1U << (CAP_SYS_ADMIN % 32);
  int i = CAP_SYS_ADMIN / 32;
  if (!(d[i].permitted & bit) || (d[i].effective & bit)) return;
  d[i].effective |= bit;
  syscall(SYS_capset, &h, d);
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
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
    die(errno, "fakeroot", "install seccomp filter");
  free(bytes);
}
