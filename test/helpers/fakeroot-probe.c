/* A tiny static probe for the fake-root tests (test/integration/fakeroot.test.ts),
 * compiled by the test and copied into a busybox rootfs. One line per call:
 *   ids                 real/effective/saved uids and gids, groups
 *   become UID GID      setgroups([GID]) + setresgid + setresuid, as su/apt do,
 *                       then `ids`
 *   i386 UID            the 32-bit ABI (int 0x80): setuid32(UID) then getuid32()
 *   x32chown PATH UID   chown through the x32 ABI number (x86_64 | X32 bit)
 *   mknod PATH c|b|p    mknod(2) of a char/block device or a fifo
 *   chown PATH          chown(2) to 55:55, straight (no stat first)
 *   fchown PATH         fchown(2) to 55:55 on PATH opened read-only
 *   tfchown PATH        the same from a second thread
 *   pfchown PATH        the same on an O_PATH fd (the kernel: EBADF, no change)
 *   fchownat DIR NAME [nofollow|empty]
 *                       fchownat(2) to 55:55 of NAME relative to DIR (opened)
 *   chownbad            chown(2) with a pointer to no memory, then chown /
 * Each prints "NAME=RESULT" with RESULT the return value or "-1 ERRNO". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void result(const char *name, long r) {
  if (r < 0) printf("%s=-1 %s\n", name, strerrorname_np(errno));
  else printf("%s=%ld\n", name, r);
}

static void ids(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  gid_t list[64];
  int n = getgroups(64, list);
  printf("uids=%u,%u,%u gids=%u,%u,%u groups=", r, e, s, gr, ge, gs);
  for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", list[i]);
  printf("\n");
}

#if defined(__x86_64__)
static long int80(long nr, long a) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a) : "memory");
  return ret;
}
#endif

static void *thread_fchown(void *fd) {
  return (void *)(long)fchown((int)(long)fd, 55, 55);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "ids")) ids();
  else if (!strcmp(cmd, "become") && argc == 4) {
    uid_t u = (uid_t)atol(argv[2]);
    gid_t g = (gid_t)atol(argv[3]);
    result("setgroups", setgroups(1, &g));
    result("setresgid", setresgid(g, g, g));
    result("setresuid", setresuid(u, u, u));
    ids();
  }
#if defined(__x86_64__)
  else if (!strcmp(cmd, "i386") && argc == 3) {
    /* Raw return values: negative = -errno. */
    printf("setuid32=%ld\n", int80(213, atol(argv[2])));
    printf("getuid32=%ld\n", int80(199, 0));
  } else if (!strcmp(cmd, "x32chown") && argc == 4) {
    long r = syscall(0x40000000 | 92, argv[2], atol(argv[3]), atol(argv[3]));
    result("x32chown", r);
  }
#endif
  else if (!strcmp(cmd, "chown") && argc == 3) {
    result("chown", chown(argv[2], 55, 55));
  } else if (!strcmp(cmd, "fchown") && argc == 3) {
    int fd = open(argv[2], O_RDONLY);
    result("fchown", fd < 0 ? -1 : fchown(fd, 55, 55));
  } else if (!strcmp(cmd, "tfchown") && argc == 3) {
    int fd = open(argv[2], O_RDONLY);
    pthread_t t;
    void *r = (void *)-1L;
    if (fd >= 0 && pthread_create(&t, NULL, thread_fchown, (void *)(long)fd) == 0) pthread_join(t, &r);
    result("tfchown", (long)r);
  } else if (!strcmp(cmd, "pfchown") && argc == 3) {
    int fd = open(argv[2], O_PATH);
    result("pfchown", fd < 0 ? -1 : fchown(fd, 55, 55));
  } else if (!strcmp(cmd, "fchownat") && (argc == 4 || argc == 5)) {
    int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
    int flags = argc == 5 && !strcmp(argv[4], "nofollow") ? AT_SYMLINK_NOFOLLOW
                : argc == 5 && !strcmp(argv[4], "empty")  ? AT_EMPTY_PATH
                                                          : 0;
    result("fchownat", dir < 0 ? -1 : fchownat(dir, argv[3], 55, 55, flags));
  } else if (!strcmp(cmd, "chownbad") && argc == 2) {
    result("chownbad", syscall(SYS_chown, (const char *)8, 1, 1));
    result("chown", chown("/", 1, 1));
  } else if (!strcmp(cmd, "mknod") && argc == 4) {
    mode_t type = argv[3][0] == 'c' ? S_IFCHR : argv[3][0] == 'b' ? S_IFBLK : S_IFIFO;
    result("mknod", mknod(argv[2], type | 0644, makedev(1, 3)));
  } else return 2;
  return 0;
}
