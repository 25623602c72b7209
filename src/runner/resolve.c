/* Resolving a path INSIDE the rootfs, creating what is missing.
 * Symlinks are followed by hand, component by component, with ".." and
 * absolute targets clamped to the rootfs; every open goes through openat2
 * RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS on an already-canonical path, so a
 * rootfs whose /etc/x points at /tmp/outside gets /rootfs/tmp/outside, never
 * the host's. Creation uses mkdirat / O_CREAT|O_EXCL under the resolved
 * parent, which never follows a symlink. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resolve.h"

int open_in_root(int rootfd, const char *canon, int flags) {
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, rootfd, canon[0] ? canon : "/", &how, sizeof how);
}

/* Drops the last component of a canonical path ("/a/b" -> "/a", "/a" -> ""). */
static void pop(char *cur) {
  char *s = strrchr(cur, '/');
  if (s) *s = '\0';
}

/* A symbolic link on procfs: /proc/self, /proc/PID/fd/N, /proc/PID/root… never lead anywhere a mount or a cwd may go. */
static int on_procfs(int dfd) {
  struct statfs fs;
  return fstatfs(dfd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

int resolve_in_root(int rootfd, const char *path, enum create_kind create, int flags, char *cur, size_t cursize) {
  /* `todo` holds the components still to walk; symlink targets are spliced in front. */
  char todo[PATH_BUF * 2];
  int links = 0;
  if (strlen(path) >= sizeof todo) return errno = ENAMETOOLONG, -1;
  strcpy(todo, path);
  cur[0] = '\0';
  for (;;) {
    char *t = todo;
    while (*t == '/') t++;
    if (!*t) break;
    char comp[256];
    size_t clen = strcspn(t, "/");
    if (clen >= sizeof comp) return errno = ENAMETOOLONG, -1;
    memcpy(comp, t, clen);
    comp[clen] = '\0';
    memmove(todo, t + clen, strlen(t + clen) + 1);
    int last = todo[strspn(todo, "/")] == '\0';

    if (!strcmp(comp, ".")) continue;
    if (!strcmp(comp, "..")) {
      pop(cur);
      continue;
    }
    int dfd = open_in_root(rootfd, cur, O_PATH | O_DIRECTORY);
    if (dfd < 0) return -1;
    struct stat st;
    if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      int err = errno;
      if (err != ENOENT || create == CREATE_NONE) {
        close(dfd);
        return errno = err, -1;
      }
      int r;
      if (last && create == CREATE_FILE) {
        r = openat(dfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(dfd, comp, 0755);
      }
      if (r < 0 && errno != EEXIST) {
        err = errno;
        close(dfd);
        return errno = err, -1;
      }
      /* Re-examine what is there now (EEXIST: someone made it meanwhile). */
      if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        err = errno;
        close(dfd);
        return errno = err, -1;
      }
    }
    if (S_ISLNK(st.st_mode)) {
      if ((flags & WALK_NO_SYMLINKS) || on_procfs(dfd)) {
        close(dfd);
        return errno = ELOOP, -1;
      }
      char target[PATH_BUF];
      ssize_t n = readlinkat(dfd, comp, target, sizeof target - 1);
      close(dfd);
      if (n < 0) return -1;
      target[n] = '\0';
      if (++links > 40) return errno = ELOOP, -1;
      if (strlen(target) + strlen(todo) + 2 >= sizeof todo) return errno = ENAMETOOLONG, -1;
      /* todo := target + "/" + todo */
      memmove(todo + n + 1, todo, strlen(todo) + 1);
      memcpy(todo, target, (size_t)n);
      todo[n] = '/';
      if (target[0] == '/') cur[0] = '\0';
      continue;
    }
    close(dfd);
    if (strlen(cur) + clen + 2 > cursize) return errno = ENAMETOOLONG, -1;
    strcat(cur, "/");
    strcat(cur, comp);
  }
  return 0;
}
