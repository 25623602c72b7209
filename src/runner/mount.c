/* The container's filesystem, executed in C2 inside the new mount namespace:
 * records rootfs, mount, symlink, mask, rdonly, mkdir, rootro, hostname,
 * domainname (in plan order), then pivot_root and rootprop.
 * Mounts go onto /proc/self/fd/N of an O_PATH fd resolved inside the rootfs
 * (the host's /proc is still ours here), never onto a path string. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resolve.h"
#include "runner.h"

static int rootfd = -1;
static const char *rootfs;
static int premade_sysfs = -1;

/* `premade-sysfs ATTRS`: the network namespace was joined, and is owned by the
 * caller's user namespace, so once in ours the kernel refuses a fresh sysfs.
 * Made here, in C1 after the joins and before the unshare, as a detached
 * mount that the sysfs mount step attaches. When the caller may not (no
 * CAP_SYS_ADMIN over its mount namespace), nothing is made and that step
 * falls back as planned. */
void premake_sysfs(const struct plan *p) {
  const struct rec *r = plan_find(p, "premade-sysfs");
  if (!r) return;
  int fs = (int)syscall(SYS_fsopen, "sysfs", FSOPEN_CLOEXEC);
  if (fs < 0) return;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "sysfs", 0) == 0 &&
      syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    premade_sysfs = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, (unsigned int)num(r->argv[0]));
  close(fs);
}

static const char *fdpath(int fd) {
  static char buf[2][64];
  static int i;
  i ^= 1;
  snprintf(buf[i], sizeof buf[i], "/proc/self/fd/%d", fd);
  return buf[i];
}

/* Resolves `dest` in the rootfs and opens it O_PATH; the step fails on error. */
static int dest_fd(const char *step, const char *dest, enum create_kind create, char *canon) {
  if (resolve_in_root(rootfd, dest, create, canon, PATH_BUF) < 0) die(errno, step, "%s", dest);
  int fd = open_in_root(rootfd, canon, O_PATH);
  if (fd < 0) die(errno, step, "open %s", dest);
  return fd;
}

/* mount_setattr only ever adds the flags asked for, so the flags the kernel
 * locked on mounts inherited from the caller (nosuid, nodev...) never need to
 * be repeated, unlike with a MS_REMOUNT. */
static void set_attrs(const char *step, const char *dest, const char *canon, unsigned long long attrs,
                      unsigned long long prop, int recursive, int prop_recursive) {
  if (!attrs && !prop) return;
  int fd = open_in_root(rootfd, canon, O_PATH); /* the new mount's root */
  if (fd < 0) die(errno, step, "reopen %s", dest);
  if (attrs) {
    struct mount_attr a = { .attr_set = attrs };
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
      die(errno, step, "set flags on %s", dest);
  }
  if (prop) {
    struct mount_attr a = { .propagation = prop };
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (prop_recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
      die(errno, step, "set propagation on %s", dest);
  }
  close(fd);
}

/* mount SRC DEST FSTYPE FLAGS DATA ATTRS PROP KIND
 * FLAGS are mount(2) flags (MS_BIND[|MS_REC] for binds); ATTRS are
 * MOUNT_ATTR_* added afterwards (recursively when MS_REC); PROP is a
 * propagation type with bit 0x4000 (MS_REC) asking for recursion;
 * KIND is dir, file, or auto (file when the source is not a directory). */
static void do_mount(const struct rec *r, const struct rec *eperm_alt) {
  const char *src = r->argv[0], *dest = r->argv[1], *type = r->argv[2], *data = r->argv[4], *kind = r->argv[7];
  unsigned long flags = num(r->argv[3]);
  unsigned long long attrs = num(r->argv[5]), prop = num(r->argv[6]);
  enum create_kind create = CREATE_DIR;
  if (!strcmp(kind, "file")) create = CREATE_FILE;
  if (!strcmp(kind, "auto")) {
    struct stat st;
    if (stat(src, &st) < 0) die(errno, "mount", "%s: source %s", dest, src);
    if (!S_ISDIR(st.st_mode)) create = CREATE_FILE;
  }
  char canon[PATH_BUF];
  int fd = dest_fd("mount", dest, create, canon);
  if (!strcmp(type, "sysfs") && premade_sysfs >= 0 &&
      /* Onto the fd itself: the kernel refuses a /proc/self/fd path here (EINVAL). */
      syscall(SYS_move_mount, premade_sysfs, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0) {
    close(premade_sysfs);
    premade_sysfs = -1;
    close(fd);
    set_attrs("mount", dest, canon, attrs, prop & ~(unsigned long long)MS_REC, 0, (prop & MS_REC) != 0);
    return;
  }
  if (mount(*src ? src : NULL, fdpath(fd), *type ? type : NULL, flags, *data ? data : NULL) < 0) {
    /* The plan's own alternative when the kernel says EPERM (e.g. sysfs while
     * the host's /sys has overmounts): TypeScript chose it, we just take it. */
    if (errno == EPERM && eperm_alt) {
      close(fd);
      do_mount(eperm_alt, NULL);
      return;
    }
    die(errno, "mount", "%s on %s (%s)", src, dest, *type ? type : "bind");
  }
  close(fd);
  set_attrs("mount", dest, canon, attrs, prop & ~(unsigned long long)MS_REC, (flags & MS_REC) != 0,
            (prop & MS_REC) != 0);
}

static void do_symlink(const struct rec *r) {
  const char *target = r->argv[0], *path = r->argv[1];
  char parent[PATH_BUF], canon[PATH_BUF];
  const char *slash = strrchr(path, '/');
  size_t plen = slash ? (size_t)(slash - path) : 0;
  if (plen >= sizeof parent) die(ENAMETOOLONG, "symlink", "%s", path);
  memcpy(parent, path, plen);
  parent[plen] = '\0';
  int dfd = dest_fd("symlink", parent, CREATE_DIR, canon);
  int d = open_in_root(rootfd, canon, O_PATH | O_DIRECTORY);
  if (d < 0) die(errno, "symlink", "open %s", parent);
  /* An existing entry (image-provided /dev/fd, say) is left as it is. */
  if (symlinkat(target, d, slash ? slash + 1 : path) < 0 && errno != EEXIST)
    die(errno, "symlink", "%s -> %s", path, target);
  close(d);
  close(dfd);
}

/* maskedPaths: /dev/null over files, an empty read-only tmpfs over
 * directories; paths the rootfs lacks are skipped. */
static void do_mask(const char *path) {
  char canon[PATH_BUF];
  if (resolve_in_root(rootfd, path, CREATE_NONE, canon, sizeof canon) < 0) {
    if (errno == ENOENT) return;
    die(errno, "maskedPaths", "%s", path);
  }
  int fd = open_in_root(rootfd, canon, O_PATH);
  if (fd < 0) die(errno, "maskedPaths", "open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0) die(errno, "maskedPaths", "stat %s", path);
  int r = S_ISDIR(st.st_mode) ? mount("tmpfs", fdpath(fd), "tmpfs", MS_RDONLY, "size=0k")
                              : mount("/dev/null", fdpath(fd), NULL, MS_BIND, NULL);
  if (r < 0) die(errno, "maskedPaths", "%s", path);
  close(fd);
}

/* readonlyPaths: bind onto itself, then read-only recursively. */
static void do_rdonly(const char *path) {
  char canon[PATH_BUF];
  if (resolve_in_root(rootfd, path, CREATE_NONE, canon, sizeof canon) < 0) {
    if (errno == ENOENT) return;
    die(errno, "readonlyPaths", "%s", path);
  }
  int fd = open_in_root(rootfd, canon, O_PATH);
  if (fd < 0) die(errno, "readonlyPaths", "open %s", path);
  if (mount(fdpath(fd), fdpath(fd), NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "readonlyPaths", "bind %s", path);
  close(fd);
  set_attrs("readonlyPaths", path, canon, MOUNT_ATTR_RDONLY, 0, 1, 0);
}

static void do_rootfs(const char *path) {
  rootfs = path;
  /* Nothing we mount may propagate back to the caller's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "rootfs", "make mounts private");
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "rootfs", "bind %s", path);
  rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die(errno, "rootfs", "open %s", path);
}

void setup_mounts(const struct plan *p) {
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    const char *t = r->tag;
    if (!strcmp(t, "rootfs")) do_rootfs(r->argv[0]);
    else if (rootfd < 0 && (!strcmp(t, "mount") || !strcmp(t, "symlink") || !strcmp(t, "mask") ||
                            !strcmp(t, "rdonly") || !strcmp(t, "mkdir") || !strcmp(t, "rootro")))
      die(0, "plan", "%s before rootfs", t);
    else if (!strcmp(t, "mount")) {
      const struct rec *next = i + 1 < p->n ? &p->recs[i + 1] : NULL;
      do_mount(r, next && !strcmp(next->tag, "eperm-mount") ? next : NULL);
    }
    else if (!strcmp(t, "symlink")) do_symlink(r);
    else if (!strcmp(t, "mask")) do_mask(r->argv[0]);
    else if (!strcmp(t, "rdonly")) do_rdonly(r->argv[0]);
    else if (!strcmp(t, "mkdir")) {
      char canon[PATH_BUF];
      close(dest_fd("cwd", r->argv[0], CREATE_DIR, canon));
    } else if (!strcmp(t, "rootro")) {
      set_attrs("root.readonly", "/", "", MOUNT_ATTR_RDONLY, 0, 0, 0);
    } else if (!strcmp(t, "hostname")) {
      if (sethostname(r->argv[0], strlen(r->argv[0])) < 0) die(errno, "hostname", "%s", r->argv[0]);
    } else if (!strcmp(t, "domainname")) {
      if (setdomainname(r->argv[0], strlen(r->argv[0])) < 0) die(errno, "domainname", "%s", r->argv[0]);
    }
  }
  if (rootfd < 0) die(0, "plan", "no rootfs");
  if (fchdir(rootfd) < 0) die(errno, "pivot_root", "chdir %s", rootfs);
  if (plan_find(p, "nopivot")) {
    /* --no-pivot (roots where pivot_root is refused, e.g. ramfs): move the
     * rootfs mount over / and chroot into it. The old root stays underneath
     * in this mount namespace, which is why pivot_root is the default. */
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) die(errno, "no-pivot", "move %s to /", rootfs);
    if (chroot(".") < 0) die(errno, "no-pivot", "chroot %s", rootfs);
  } else {
    /* pivot_root(".", "."): the old root ends up stacked under the new one and
     * is detached right away, so no host path stays reachable. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) die(errno, "pivot_root", "%s", rootfs);
    if (umount2(".", MNT_DETACH) < 0) die(errno, "pivot_root", "detach old root");
  }
  if (chdir("/") < 0) die(errno, "pivot_root", "chdir /");
  close(rootfd);
  const struct rec *rp = plan_find(p, "rootprop");
  if (rp && mount(NULL, "/", NULL, num(rp->argv[0]), NULL) < 0) die(errno, "rootfsPropagation", "%s", rp->argv[0]);
}
