/* The container's filesystem, executed in C2 inside the new mount namespace:
 * records rootfs, bind, fs (+ eperm-bind), mask, rdonly, mask-root,
 * rdonly-root, symlink, mkdir, rootro, hostname, domainname (in plan order),
 * then pivot_root and rootprop.
 *
 * Every mount is made with the new mount API: the source becomes a detached
 * tree (open_tree for a bind, fsopen/fsmount for a fresh file system), gets its
 * flags while detached, and is attached with move_mount onto an O_PATH fd of
 * the destination resolved inside the rootfs. No path is resolved twice, so
 * nothing can be swapped between "mount" and "make it read-only".
 *
 * Masked and read-only paths under a kernel file system (proc, sysfs…) are
 * applied right after that mount, relative to the fd of the new mount itself
 * (`mask REL`, `rdonly REL`): a rootfs whose symlinks move /proc elsewhere
 * cannot make them miss. Only a path the fresh mount lacks is skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "resolve.h"
#include "runner.h"

static int rootfd = -1;
static const char *rootfs;
static int premade_sysfs = -1;
/* The root of the most recent bind/fs mount: what `mask`/`rdonly` are relative to. */
static int last_mount = -1;

#define MS_REC_BIT 0x4000ULL

/* `premade-sysfs ATTRS`: the network namespace was joined, and is owned by the
 * caller's user namespace, so once in ours the kernel refuses a fresh sysfs.
 * Made here, in C1 after the joins and before the unshare, as a detached
 * mount that the sysfs mount step attaches. When the caller may not (no
 * CAP_SYS_ADMIN over its mount namespace), nothing is made and that step
 * falls back as planned. */
void premake_sysfs(const struct plan *p) {
  const struct rec *r = plan_find(p, "premade-sysfs");
  if (!r) return;
  int fs = fsopen("sysfs", FSOPEN_CLOEXEC);
  if (fs >= 0 && fsconfig(fs, FSCONFIG_SET_STRING, "source", "sysfs", 0) == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    premade_sysfs = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned int)num(r->argv[0]));
  if (premade_sysfs < 0) note("sysfs for the joined network namespace not made (%s): the planned fallback follows", strerror(errno));
  if (fs >= 0) close(fs);
}

static int openat2_fd(int dfd, const char *path, unsigned long long flags, unsigned long long resolve) {
  struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = resolve };
  return (int)syscall(SYS_openat2, dfd, path, &how, sizeof how);
}

/* Resolves `dest` in the rootfs (creating what is missing) and opens it O_PATH. */
static int dest_fd(const char *step, const char *dest, enum create_kind create, int nofollow) {
  char canon[PATH_BUF];
  if (resolve_in_root(rootfd, dest, create, nofollow ? WALK_NO_SYMLINKS : 0, canon, sizeof canon) < 0) {
    if (errno == ELOOP && nofollow)
      die(0, step, "%s: a kernel file system is mounted only on a real directory, not through a symbolic link", dest);
    die(errno, step, "%s", dest);
  }
  int fd = open_in_root(rootfd, canon, O_PATH);
  if (fd < 0) die(errno, step, "open %s", dest);
  return fd;
}

static void set_last(int fd) {
  if (last_mount >= 0) close(last_mount);
  last_mount = fd;
}

static int attach(int tree, int dest) {
  return move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int setattr_fd(int fd, unsigned long long set, unsigned long long prop, int recursive) {
  struct mount_attr a = { .attr_set = set, .propagation = prop };
  return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

/* Propagation of an attached mount (PROP carries MS_REC for the r- forms). */
static void set_propagation(int mnt, unsigned long long prop, const char *dest) {
  if (!prop) return;
  if (setattr_fd(mnt, 0, prop & ~MS_REC_BIT, (prop & MS_REC_BIT) != 0) < 0) die(errno, "mount", "set propagation on %s", dest);
}

/* `lock-binds DIR…` (create, in C1 right before the unshare): read-only
 * binds the container must not remount writable, which it could (holding
 * CAP_SYS_ADMIN in its user namespace) if they were made in its own mount
 * namespace. The kernel locks the flags of mounts only as it copies them into
 * a mount namespace of a less privileged user namespace. So C1 takes a mount
 * namespace of its own, still in the caller's user namespace (its mounts made
 * slaves: nothing propagates back to the caller's), stacks each DIR
 * read-only on itself there, and the unshare copies them locked; the bind
 * steps then clone those. A caller without CAP_SYS_ADMIN over its mount
 * namespace cannot (noted): then the binds are the plain ones. */
void lock_binds(const struct plan *p) {
  const struct rec *r = plan_find(p, "lock-binds");
  if (!r) return;
  if (unshare(CLONE_NEWNS) < 0) {
    note("read-only cgroup view not locked (unshare: %s): the container may remount it", strerror(errno));
    return;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) die(errno, "mount", "make the set-up mounts slaves");
  for (int i = 0; i < r->argc; i++) {
    int t = open_tree(AT_FDCWD, r->argv[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (t < 0) die(errno, "mount", "lock %s", r->argv[i]);
    if (setattr_fd(t, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, 0) < 0 ||
        move_mount(t, "", AT_FDCWD, r->argv[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
      die(errno, "mount", "lock %s", r->argv[i]);
    close(t);
  }
}

/* Why a mount attempt failed: the call, for the message. */
static const char *failed;

/* Attaches the detached mount MNT at DEST (resolved in the rootfs, made when
 * missing) and sets its propagation; MNT, or -1 with errno (MNT closed). */
static int attach_at(int mnt, const char *dest, enum create_kind create, int nofollow, unsigned long long prop) {
  int fd = dest_fd("mount", dest, create, nofollow);
  int rc = attach(mnt, fd);
  int err = errno;
  close(fd);
  if (rc < 0) {
    close(mnt);
    return errno = err, failed = "attach", -1;
  }
  set_propagation(mnt, prop, dest);
  return mnt;
}

/* bind SRC DEST ATTRS PROP REC KIND NOFOLLOW DEV
 * A clone of SRC (recursive with REC=1) with ATTRS (MOUNT_ATTR_*) added while
 * detached, attached at DEST. KIND: dir, file, or auto (what SRC is). DEV
 * ("c:MAJ:MIN", "b:…" or empty): SRC must be that device node (checked on the
 * clone itself, so a node swapped in since planning is refused).
 * Returns the attached mount, or -1 with errno and `failed` set. */
static int try_bind(const struct rec *r) {
  const char *src = r->argv[0], *dest = r->argv[1], *kind = r->argv[5], *dev = r->argv[7];
  unsigned long long attrs = num(r->argv[2]);
  int rec = !strcmp(r->argv[4], "1"), nofollow = !strcmp(r->argv[6], "1");
  int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (tree < 0) return failed = "source", -1;
  struct stat st;
  if (fstat(tree, &st) < 0) die(errno, "mount", "%s: stat source %s", dest, src);
  if (*dev) {
    char type;
    unsigned int maj, min;
    if (sscanf(dev, "%c:%u:%u", &type, &maj, &min) != 3) die(0, "plan", "bad device %s", dev);
    int is = type == 'b' ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
    if (!is || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
      die(0, "mount", "%s: source %s is no longer the device %s", dest, src, dev);
  }
  if (attrs && setattr_fd(tree, attrs, 0, rec) < 0) die(errno, "mount", "set flags on %s", dest);
  enum create_kind create = CREATE_DIR;
  if (!strcmp(kind, "file") || (!strcmp(kind, "auto") && !S_ISDIR(st.st_mode))) create = CREATE_FILE;
  return attach_at(tree, dest, create, nofollow, num(r->argv[3]));
}

/* The first message the file system left on its fs_context, if any. */
static const char *fs_message(int fs) {
  static char buf[256];
  ssize_t n = read(fs, buf, sizeof buf - 1);
  if (n <= 2) return "";
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return buf + 2; /* "e message" */
}

static char fs_why[256];

/* A detached fresh file system of TYPE from SRC with the options, or -1
 * with errno (fs_why then holds the file system's own message, if any). */
static int fresh(const char *type, const char *src, char *const *opts, int nopts, unsigned int attrs) {
  int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  int rc = *src ? fsconfig(fs, FSCONFIG_SET_STRING, "source", src, 0) : 0;
  for (int i = 0; rc == 0 && i < nopts; i++) {
    char *eq = strchr(opts[i], '=');
    if (eq) {
      *eq = '\0';
      rc = fsconfig(fs, FSCONFIG_SET_STRING, opts[i], eq + 1, 0);
      *eq = '=';
    } else {
      rc = fsconfig(fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
    }
  }
  if (rc == 0) rc = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  int mnt = rc == 0 ? fsmount(fs, FSMOUNT_CLOEXEC, attrs) : -1;
  int err = errno;
  if (mnt < 0) snprintf(fs_why, sizeof fs_why, "%s", fs_message(fs));
  close(fs);
  errno = err;
  return mnt;
}

/* fs TYPE SRC DEST ATTRS PROP NOFOLLOW OPTION…
 * A fresh file system: each OPTION is `key=value` (a string parameter) or
 * `key` (a flag), as in mount(8) data; ATTRS are the mount's MOUNT_ATTR_*. */
static int try_fs(const struct rec *r) {
  const char *type = r->argv[0], *src = r->argv[1], *dest = r->argv[2];
  int nofollow = !strcmp(r->argv[5], "1");
  int mnt;
  fs_why[0] = '\0';
  if (!strcmp(type, "sysfs") && premade_sysfs >= 0) {
    mnt = premade_sysfs; /* made by C1 with these attributes */
    premade_sysfs = -1;
  } else if ((mnt = fresh(type, src, r->argv + 6, r->argc - 6, (unsigned int)num(r->argv[3]))) < 0) {
    return failed = "create", -1;
  }
  return attach_at(mnt, dest, CREATE_DIR, nofollow, num(r->argv[4]));
}

static void __attribute__((noreturn)) mount_failed(const struct rec *r, int err) {
  if (!strcmp(r->tag, "fs")) {
    if (fs_why[0]) die(err, "mount", "%s on %s (%s): %s", r->argv[1], r->argv[2], r->argv[0], fs_why);
    die(err, "mount", "%s on %s (%s)", r->argv[1], r->argv[2], r->argv[0]);
  }
  if (!strcmp(failed, "source")) die(err, "mount", "%s: source %s", r->argv[1], r->argv[0]);
  die(err, "mount", "%s on %s (bind)", r->argv[0], r->argv[1]);
}

/* A bind or fs record, with the plan's own alternative when the kernel says
 * EPERM (e.g. sysfs while the host's /sys has overmounts): TypeScript chose
 * it, we just take it. */
static void do_mount(const struct rec *r, const struct rec *eperm_alt) {
  int m = !strcmp(r->tag, "fs") ? try_fs(r) : try_bind(r);
  if (m < 0 && errno == EPERM && eperm_alt) {
    note("%s: EPERM, taking the planned alternative (a bind of %s)", eperm_alt->argv[1], eperm_alt->argv[0]);
    m = try_bind(eperm_alt);
    if (m < 0) mount_failed(eperm_alt, errno);
  } else if (m < 0) {
    mount_failed(r, errno);
  }
  set_last(m);
}

/* The target of a masked or read-only path: relative to the last mount (a
 * kernel file system: no symbolic link at all), or with `-root` inside the
 * rootfs (links followed inside it). Magic links never. -1/ENOENT: absent. */
static int path_target(const char *step, const char *path, int in_root) {
  if (!in_root && last_mount < 0) die(0, "plan", "%s %s before any mount", step, path);
  int fd = in_root ? openat2_fd(rootfd, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
                   : openat2_fd(last_mount, *path ? path : ".", O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno != ENOENT) die(errno, step, "%s", path);
  return fd;
}

/* maskedPaths: /dev/null over files, an empty read-only tmpfs over directories. */
static void do_mask(const char *path, int in_root) {
  int fd = path_target("maskedPaths", path, in_root);
  if (fd < 0) return; /* nothing there to hide */
  struct stat st;
  if (fstat(fd, &st) < 0) die(errno, "maskedPaths", "stat %s", path);
  int m;
  if (S_ISDIR(st.st_mode)) {
    static char size0[] = "size=0";
    char *opts[] = { size0 };
    m = fresh("tmpfs", "tmpfs", opts, 1, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  } else {
    m = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  }
  if (m < 0 || attach(m, fd) < 0) die(errno, "maskedPaths", "%s", path);
  close(m);
  close(fd);
}

/* readonlyPaths: a read-only clone of the subtree, attached over it. */
static void do_rdonly(const char *path, int in_root) {
  int fd = path_target("readonlyPaths", path, in_root);
  if (fd < 0) return;
  int t = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (t < 0 || setattr_fd(t, MOUNT_ATTR_RDONLY, 0, 1) < 0 || attach(t, fd) < 0) die(errno, "readonlyPaths", "%s", path);
  close(t);
  close(fd);
}

/* rootfs PATH ATTRS: a recursive clone of the rootfs (ATTRS added, e.g. nodev)
 * attached over itself; its fd is the root every destination is resolved in. */
static void do_rootfs(const struct rec *r) {
  const char *path = r->argv[0];
  rootfs = path;
  /* Nothing we mount may propagate back to the caller's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "rootfs", "make mounts private");
  /* The path is the caller's (its symlinks are followed, as by mount(8)):
   * opened once, cloned and covered through the same fd. */
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die(errno, "rootfs", "%s", path);
  int t = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (t < 0) die(errno, "rootfs", "%s", path);
  unsigned long long attrs = num(r->argv[1]);
  if (attrs && setattr_fd(t, attrs, 0, 1) < 0) die(errno, "rootfs", "set flags on %s", path);
  if (attach(t, dir) < 0) die(errno, "rootfs", "bind %s", path);
  close(dir);
  rootfd = t;
}

static void do_symlink(const struct rec *r) {
  const char *target = r->argv[0], *path = r->argv[1];
  char parent[PATH_BUF];
  const char *slash = strrchr(path, '/');
  size_t plen = slash ? (size_t)(slash - path) : 0;
  if (plen >= sizeof parent) die(ENAMETOOLONG, "symlink", "%s", path);
  memcpy(parent, path, plen);
  parent[plen] = '\0';
  int d = dest_fd("symlink", parent, CREATE_DIR, 0);
  /* An existing entry (image-provided /dev/fd, say) is left as it is. */
  if (symlinkat(target, d, slash ? slash + 1 : path) < 0 && errno != EEXIST) die(errno, "symlink", "%s -> %s", path, target);
  close(d);
}

static int is(const char *t, const char *a) {
  return !strcmp(t, a);
}

void setup_mounts(const struct plan *p, void (*before_pivot)(const struct plan *)) {
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    const char *t = r->tag;
    if (is(t, "rootfs")) {
      do_rootfs(r);
      continue;
    }
    int fs_step = is(t, "bind") || is(t, "fs") || is(t, "symlink") || is(t, "mask") || is(t, "rdonly") || is(t, "mask-root") ||
                  is(t, "rdonly-root") || is(t, "mkdir") || is(t, "rootro");
    if (fs_step && rootfd < 0) die(0, "plan", "%s before rootfs", t);
    if (is(t, "bind") || is(t, "fs")) {
      const struct rec *next = i + 1 < p->n ? &p->recs[i + 1] : NULL;
      do_mount(r, next && is(next->tag, "eperm-bind") ? next : NULL);
    } else if (is(t, "symlink")) do_symlink(r);
    else if (is(t, "mask")) do_mask(r->argv[0], 0);
    else if (is(t, "rdonly")) do_rdonly(r->argv[0], 0);
    else if (is(t, "mask-root")) do_mask(r->argv[0], 1);
    else if (is(t, "rdonly-root")) do_rdonly(r->argv[0], 1);
    else if (is(t, "mkdir")) close(dest_fd("cwd", r->argv[0], CREATE_DIR, 0));
    else if (is(t, "rootro")) {
      if (setattr_fd(rootfd, MOUNT_ATTR_RDONLY, 0, 0) < 0) die(errno, "root.readonly", "%s", rootfs);
    } else if (is(t, "hostname")) {
      if (sethostname(r->argv[0], strlen(r->argv[0])) < 0) die(errno, "hostname", "%s", r->argv[0]);
    } else if (is(t, "domainname")) {
      if (setdomainname(r->argv[0], strlen(r->argv[0])) < 0) die(errno, "domainname", "%s", r->argv[0]);
    }
  }
  if (rootfd < 0) die(0, "plan", "no rootfs");
  /* No fd of ours that leads into a file system may stay open. */
  set_last(-1);
  if (premade_sysfs >= 0) close(premade_sysfs);
  premade_sysfs = -1;
  /* Every mount is made, the root not yet changed: the createContainer point. */
  before_pivot(p);
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
  rootfd = -1;
  const struct rec *rp = plan_find(p, "rootprop");
  if (rp && mount(NULL, "/", NULL, num(rp->argv[0]), NULL) < 0) die(errno, "rootfsPropagation", "%s", rp->argv[0]);
}
