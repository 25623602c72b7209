/* The fake-root supervisor (see seccomp.c for the filter it answers for):
 * a process that keeps fake credentials per container process and answers
 * the set*id/get*id/setgroups calls the filter hands it
 * (SECCOMP_RET_USER_NOTIF) from them, with the rules of fakeids.c. Nothing
 * changes in the kernel: the process keeps the single mapped id. It also
 * answers the chown calls: 0, the owner unchanged, but with what a real
 * chown does to the file besides (see owner_call).
 *
 * It is forked by C1 before it joins or creates any namespace: it lives in
 * the caller's namespaces (pids and /proc are the host's view, it is not one
 * of the container's processes for ps or kill --all) and, as the owner of
 * the container's user namespace, may read and write the memory of its
 * processes. It waits on a socket for C2, which installs the filter right
 * before execve and sends the listener fd and its credentials. It exits on
 * EOF (the container never started) or when the listener reports POLLHUP (no
 * filtered process is left). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fakeids.h"
#include "runner.h"

enum op {
  GETUID,
  GETEUID,
  GETGID,
  GETEGID,
  GETRESUID,
  GETRESGID,
  GETGROUPS,
  SETUID,
  SETGID,
  SETREUID,
  SETREGID,
  SETRESUID,
  SETRESGID,
  SETFSUID,
  SETFSGID,
  SETGROUPS,
  CHOWN,
  LCHOWN,
  FCHOWN,
  FCHOWNAT,
  NOPS
};
static const char *const op_names[NOPS] = {
  "getuid",   "geteuid",   "getgid",    "getegid",  "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid",
  "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",  "setgroups", "chown",     "lchown", "fchown", "fchownat",
};

struct rule {
  uint32_t arch;
  int nr;
  enum op op;
  int width; /* 16: legacy i386 calls, ids are u16 and -1 is 0xffff */
};

/* One set of fake credentials per thread group. [0..3] = real, effective,
 * saved, fs (uids in u, gids in g). groups is NULL for none. */
struct creds {
  pid_t tgid;
  uint32_t u[4], g[4];
  struct groups *groups;
};

static struct rule *rules;
static int nrules;
static struct creds *tab;
static int ntab, captab;
static struct creds initial;

static const struct rule *find_rule(uint32_t arch, int nr) {
  for (int i = 0; i < nrules; i++)
    if (rules[i].arch == arch && rules[i].nr == nr) return &rules[i];
  return NULL;
}

/* The notification being answered. Its caller may die at any moment and its
 * pid be reused by another process: SECCOMP_IOCTL_NOTIF_ID_VALID tells
 * whether the call still waits, i.e. whether the pid is still its caller's.
 * It is asked after every read about the target (so what was read is the
 * caller's) and before every write into it. */
static int listener_fd = -1;
static uint64_t notif_id;
static int mem_fd = -1; /* /proc/PID/mem of this notification's caller */

static int notif_valid(void) {
  return ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif_id) == 0;
}

/* The text of /proc/PID/WHAT (at most SIZE - 1 bytes, NUL-terminated): its
 * length, or -1. Whether it was the caller's is for the caller to ask. */
static ssize_t proc_text(pid_t pid, const char *what, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

/* /proc/PID/WHAT opened with FLAGS, known to be the caller's. */
static int caller_open(pid_t pid, const char *what, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
  int fd = open(path, flags | O_CLOEXEC);
  if (fd >= 0 && !notif_valid()) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Tgid and PPid of a task from /proc/TID/status (0 if unreadable); -1 when
 * the notification is no longer valid (then they may be another's). */
static int task_ids(pid_t tid, pid_t *tgid, pid_t *ppid) {
  char buf[2048];
  *tgid = *ppid = 0;
  ssize_t n = proc_text(tid, "status", buf, sizeof buf);
  if (!notif_valid()) return -1;
  if (n <= 0) return 0;
  char *t = strstr(buf, "\nTgid:"), *p = strstr(buf, "\nPPid:");
  if (t) *tgid = (pid_t)strtol(t + 6, NULL, 10);
  if (p) *ppid = (pid_t)strtol(p + 6, NULL, 10);
  return 0;
}

static struct creds *lookup(pid_t tgid) {
  for (int i = 0; i < ntab; i++)
    if (tab[i].tgid == tgid) return &tab[i];
  return NULL;
}

/* Entries of processes that are gone: a reused pid must not inherit them. */
static void sweep(void) {
  for (int i = 0; i < ntab;) {
    if (kill(tab[i].tgid, 0) < 0 && errno == ESRCH) {
      groups_unref(tab[i].groups);
      tab[i] = tab[--ntab];
    } else i++;
  }
}

static void copy_creds(struct creds *dst, const struct creds *src) {
  pid_t keep = dst->tgid;
  *dst = *src;
  dst->tgid = keep;
  groups_ref(dst->groups);
}

/* The fake credentials of TID's process. A process seen for the first time
 * inherits its parent's (fork copies credentials), or the initial ones when
 * the parent is unknown (or /proc is not this pid namespace's). NULL when
 * the notification went stale while we looked. */
static struct creds *creds_of(pid_t tid) {
  /* Fast path: the caller is a process we know (tid == tgid). A dead entry
   * could only be hit after its pid was reused, which needs the pid counter
   * to wrap between two sweeps (every 256 calls, and on every new entry). */
  static unsigned calls;
  if (++calls % 256 == 0) sweep();
  struct creds *known = lookup(tid);
  if (known) return known;
  pid_t tgid, ppid;
  if (task_ids(tid, &tgid, &ppid) < 0) return NULL;
  if (!tgid) tgid = tid;
  struct creds *c = lookup(tgid);
  if (c) return c;
  sweep();
  if (ntab == captab) {
    int cap = captab ? captab * 2 : 64;
    struct creds *t = realloc(tab, (size_t)cap * sizeof *t);
    if (!t) return &initial;
    tab = t;
    captab = cap;
  }
  const struct creds *parent = ppid ? lookup(ppid) : NULL;
  c = &tab[ntab++];
  c->tgid = tgid;
  copy_creds(c, parent ? parent : &initial);
  return c;
}

/* The caller's memory, through /proc/PID/mem opened once per notification
 * and found valid right after the open: from then on the fd reaches that
 * process's memory only, even if its pid is reused (process_vm_readv/writev
 * would name the pid anew on every call). Unlike the kernel's own copy to
 * user space, such a write also lands in a read-only private page of the
 * caller: the same process could do that to itself through /proc/self/mem. */
static int target_mem(pid_t pid) {
  if (mem_fd >= 0) return mem_fd;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return notif_valid() ? -EFAULT : -ESRCH;
  if (!notif_valid()) {
    close(fd);
    return -ESRCH;
  }
  return mem_fd = fd;
}

/* ESRCH: the notification went stale (its answer is never delivered). */
static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len) {
  int fd = target_mem(pid);
  if (fd < 0) return fd;
  ssize_t n = pread(fd, buf, len, (off_t)addr);
  if (!notif_valid()) return -ESRCH;
  return n == (ssize_t)len ? 0 : -EFAULT;
}

static int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len) {
  int fd = target_mem(pid);
  if (fd < 0) return fd;
  if (!notif_valid()) return -ESRCH;
  return pwrite(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -EFAULT;
}

/* An id as a WIDTH-bit call sees it: above 65535 it reads as 65534, the
 * kernel's overflow id. */
static uint32_t overflow(uint32_t v, int width) {
  return width == 16 && v > 0xffff ? 65534 : v;
}

/* Writes one id of WIDTH bits at ADDR. */
static int put_id(pid_t pid, uint64_t addr, uint32_t v, int width) {
  if (width == 16) {
    uint16_t s = (uint16_t)overflow(v, width);
    return mem_write(pid, addr, &s, sizeof s);
  }
  return mem_write(pid, addr, &v, sizeof v);
}

/* An argument id: -1 ("unchanged") in either width becomes UINT32_MAX. */
static uint32_t arg_id(uint64_t a, int width) {
  if (width == 16) return (uint16_t)a == 0xffff ? UINT32_MAX : (uint16_t)a;
  return (uint32_t)a;
}

#define NGROUPS_CAP 65536

static int64_t get_groups(const struct creds *c, pid_t pid, const uint64_t *a, int width) {
  int size = (int)(int32_t)a[0], n = c->groups ? c->groups->n : 0;
  if (size < 0) return -EINVAL;
  if (size == 0) return n;
  if (size < n) return -EINVAL;
  for (int i = 0; i < n; i++) {
    int r = put_id(pid, a[1] + (uint64_t)i * (width / 8), c->groups->g[i], width);
    if (r) return r;
  }
  return n;
}

/* On success c->groups is a new reference (dropping the old one is the caller's). */
static int64_t set_groups(struct creds *c, pid_t pid, const uint64_t *a, int width) {
  int n = (int)(int32_t)a[0];
  if (n < 0 || n > NGROUPS_CAP) return -EINVAL;
  if (c->u[1] != 0) return -EPERM;
  uint32_t *g = NULL;
  if (n) {
    size_t each = (size_t)width / 8;
    /* The 32-bit list is read in place; a 16-bit one is widened at the end. */
    if (!(g = malloc((size_t)n * sizeof *g))) return -ENOMEM;
    int r = mem_read(pid, a[1], g, (size_t)n * each);
    if (r) {
      free(g);
      return r;
    }
    for (int i = n - 1; width == 16 && i >= 0; i--) {
      uint16_t v;
      memcpy(&v, (const char *)g + 2 * i, 2);
      g[i] = v;
    }
  }
  int err;
  struct groups *l = groups_intern(g, n, &err);
  free(g);
  if (err) return err;
  c->groups = l;
  return 0;
}

/* ---- chown ----------------------------------------------------------------
 * A faked chown answers 0 and leaves the owner as it is. A real one also
 * clears the file's setuid bit, its setgid bit when it is group-executable,
 * and its file capabilities: every chown of a non-directory does, even to
 * the ids it has. Without that, `chmod 4755 f && chown app f` leaves a
 * setuid file owned by root in the image, where a root build has a plain one
 * owned by app. fchownat(fd, "", -1, -1, AT_EMPTY_PATH) does exactly that to
 * the file and nothing else (the kernel decides which bits go).
 *
 * The file is found as the caller's call would find it, from the caller's
 * own root, working directory or DIRFD (/proc/PID/root, /proc/PID/cwd,
 * /proc/PID/fd/N, all opened O_PATH), each checked to be the caller's after
 * it is opened: an absolute path inside the caller's root (RESOLVE_IN_ROOT),
 * a relative one beneath its starting directory (RESOLVE_BENEATH) or, when
 * it climbs above it or meets an absolute symlink, as that directory's path
 * inside the root plus PATH (in_root); never through a magic link. Only a regular file the
 * caller owns (its fsuid; both as this namespace sees them) is touched: one
 * whose mode the caller could have changed itself (setuid, setgid and file
 * capabilities mean nothing on other files). Whatever fails, the answer
 * stays 0: the fake root never makes a chown fail that it made succeed
 * before. */

/* The caller's fsuid from /proc/PID/status (as this namespace sees it). */
static int caller_fsuid(pid_t pid, uid_t *fsuid) {
  char buf[4096];
  if (proc_text(pid, "status", buf, sizeof buf) <= 0 || !notif_valid()) return -1;
  char *u = strstr(buf, "\nUid:");
  unsigned long v[4];
  if (!u || sscanf(u + 5, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4) return -1;
  *fsuid = (uid_t)v[3];
  return 0;
}

/* The caller's root or working directory (WHAT) as an O_PATH fd. */
static int caller_dir(pid_t pid, const char *what) {
  return caller_open(pid, what, O_PATH | O_DIRECTORY);
}

/* What the caller's fd N names, as a new O_PATH fd (/proc/TID/fd/N), known
 * to be the caller's. Never the caller's open file itself (pidfd_getfd): if
 * the caller died meanwhile, our close would be that file's last, and the
 * last close of a socket lingering on unsent data blocks. Works from any
 * thread of the caller, too. */
static int caller_fd(pid_t pid, int n) {
  if (n < 0) return -1;
  char what[32];
  snprintf(what, sizeof what, "fd/%d", n);
  return caller_open(pid, what, O_PATH);
}

/* Whether the caller's fd N was opened with O_PATH (fchown on it is EBADF). */
static int caller_fd_is_path(pid_t pid, int n) {
  char what[32], buf[256];
  snprintf(what, sizeof what, "fdinfo/%d", n);
  if (proc_text(pid, what, buf, sizeof buf) <= 0 || !notif_valid()) return 1;
  char *f = strstr(buf, "flags:");
  return !f || (strtoul(f + 6, NULL, 8) & O_PATH);
}

/* Whether FD (ours) is on a mount of the caller's mount namespace: its
 * mnt_id is one of /proc/PID/mountinfo's. */
static int in_callers_mounts(pid_t pid, int fd) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "fdinfo/%d", fd);
  ssize_t n = proc_text(getpid(), path, buf, sizeof buf);
  if (n <= 0) return 0;
  char *m = strstr(buf, "mnt_id:");
  if (!m) return 0;
  long want = strtol(m + 7, NULL, 10);
  int f = caller_open(pid, "mountinfo", O_RDONLY);
  if (f < 0) return 0;
  /* Each line starts with the mount id; a line longer than buf is skipped whole. */
  int found = 0, at_start = 1;
  size_t keep = 0;
  while (!found && (n = read(f, buf + keep, sizeof buf - 1 - keep)) > 0) {
    buf[keep + (size_t)n] = '\0';
    char *p = buf, *nl;
    while ((nl = strchr(p, '\n'))) {
      if (at_start && strtol(p, NULL, 10) == want) found = 1;
      at_start = 1;
      p = nl + 1;
    }
    keep = strlen(p);
    if (keep == sizeof buf - 1) keep = 0, at_start = 0;
    memmove(buf, p, keep);
  }
  close(f);
  return found && notif_valid();
}

/* The NUL-terminated string at ADDR (at most PATH_MAX bytes with the NUL),
 * in one process_vm_readv of page-sized pieces (the string may end just
 * before an unmapped page: the read stops there), found valid afterwards:
 * what was read is the caller's. One call, no /proc/PID/mem to open: chown
 * is frequent (chown -R, dpkg). */
static int read_path(pid_t pid, uint64_t addr, char *buf) {
  struct iovec local = { buf, PATH_MAX }, remote[2];
  size_t first = 4096 - (size_t)(addr % 4096);
  if (first > PATH_MAX) first = PATH_MAX;
  remote[0] = (struct iovec){ (void *)(uintptr_t)addr, first };
  remote[1] = (struct iovec){ (void *)(uintptr_t)(addr + first), PATH_MAX - first };
  ssize_t n = process_vm_readv(pid, &local, 1, remote, first < PATH_MAX ? 2 : 1, 0);
  if (n <= 0 || !notif_valid()) return -1;
  return memchr(buf, '\0', (size_t)n) ? 0 : -1;
}

/* Whether a real chown would change anything about the file: a setuid bit, a
 * group-executable setgid bit, or file capabilities (an xattr, read through
 * the O_PATH fd's /proc/self/fd link). */
static int chown_clears(int fd, const struct stat *st) {
  if (st->st_mode & S_ISUID) return 1;
  if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) return 1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return getxattr(path, "security.capability", NULL, 0) > 0;
}

/* /proc/PID/WHAT's target as this process reads it: the path inside the
 * caller's mount namespace (its root is not reachable from ours). */
static int caller_link(pid_t pid, const char *what, char *buf, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/%d/%s", pid, what);
  ssize_t n = readlink(link, buf, size - 1);
  if (n <= 0 || !notif_valid()) return -1;
  buf[n] = '\0';
  return buf[0] == '/' ? 0 : -1;
}

/* A relative PATH that climbed above its starting directory or met an
 * absolute symlink: rewritten in place as the absolute path inside the
 * caller's root (the directory's path, from /proc/PID/cwd or fd/DIRFD, less
 * the root's), for RESOLVE_IN_ROOT. 0 when that cannot be told. */
static int in_root(pid_t pid, int dirfd, int base, char *path) {
  static char dir[PATH_MAX], root[PATH_MAX];
  char what[32];
  if (dirfd == AT_FDCWD) snprintf(what, sizeof what, "cwd");
  else snprintf(what, sizeof what, "fd/%d", dirfd);
  /* A directory on a mount the caller's namespace does not have (a host
   * directory's fd passed in): its path means nothing inside the root. */
  if (!in_callers_mounts(pid, base)) return 0;
  if (caller_link(pid, what, dir, sizeof dir) || caller_link(pid, "root", root, sizeof root)) return 0;
  size_t rl = strcmp(root, "/") ? strlen(root) : 0;
  if (rl && (strncmp(dir, root, rl) || (dir[rl] && dir[rl] != '/'))) return 0; /* outside its root */
  const char *rel = dir + rl;
  size_t dl = strlen(rel), pl = strlen(path);
  if (dl + 1 + pl + 1 > PATH_MAX) return 0;
  memmove(path + dl + 1, path, pl + 1);
  memcpy(path, rel, dl);
  path[dl] = '/';
  return 1;
}

static void owner_call(enum op op, pid_t pid, const uint64_t *a) {
  int dirfd = AT_FDCWD, flags = 0;
  uint64_t at = a[0];
  static char path[PATH_MAX];
  path[0] = '\0';
  if (op == LCHOWN) flags = AT_SYMLINK_NOFOLLOW;
  if (op == FCHOWN) dirfd = (int)a[0], flags = AT_EMPTY_PATH;
  if (op == FCHOWNAT) dirfd = (int)a[0], at = a[1], flags = (int)a[4];
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return;
  if (op != FCHOWN && read_path(pid, at, path)) return;
  int fd;
  if (op == FCHOWN) {
    fd = caller_fd(pid, dirfd);
  } else if (path[0] == '\0') {
    if (!(flags & AT_EMPTY_PATH)) return;
    fd = dirfd == AT_FDCWD ? caller_dir(pid, "cwd") : caller_fd(pid, dirfd);
  } else {
    int abs = path[0] == '/';
    int base = abs ? caller_dir(pid, "root") : dirfd == AT_FDCWD ? caller_dir(pid, "cwd") : caller_fd(pid, dirfd);
    if (base < 0) return;
    struct open_how how = {
      .flags = O_PATH | O_CLOEXEC | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0),
      .resolve = RESOLVE_NO_MAGICLINKS | (abs ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
    };
    fd = (int)syscall(SYS_openat2, base, path, &how, sizeof how);
    if (fd < 0 && errno == EXDEV && !abs && in_root(pid, dirfd, base, path)) {
      close(base);
      how.resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_IN_ROOT;
      if ((base = caller_dir(pid, "root")) < 0) return;
      fd = (int)syscall(SYS_openat2, base, path, &how, sizeof how);
    }
    close(base);
  }
  if (fd < 0) return;
  struct stat st;
  uid_t fsuid;
  /* Cheapest first: most files have nothing a chown would clear. */
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && chown_clears(fd, &st) && !(op == FCHOWN && caller_fd_is_path(pid, dirfd)) &&
      caller_fsuid(pid, &fsuid) == 0 && st.st_uid == fsuid && notif_valid())
    fchownat(fd, "", (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH);
  close(fd);
}

/* The answer to one call: >= 0 the return value, < 0 an errno. A change is
 * made on a copy and kept only if the call is still waiting afterwards. */
static int64_t emulate(const struct rule *ru, pid_t pid, const uint64_t *a) {
  if (ru->op >= CHOWN) {
    owner_call(ru->op, pid, a);
    return 0;
  }
  struct creds *c = creds_of(pid);
  if (!c) return -ESRCH;
  int w = ru->width;
  /* CAP_SETUID/CAP_SETGID of a fake process = its fake euid is 0. */
  int priv_u = c->u[1] == 0, priv_g = c->u[1] == 0;
  struct creds n = *c;
  int64_t r;
  switch (ru->op) {
  case GETUID:
    return overflow(c->u[0], w);
  case GETEUID:
    return overflow(c->u[1], w);
  case GETGID:
    return overflow(c->g[0], w);
  case GETEGID:
    return overflow(c->g[1], w);
  case GETRESUID:
  case GETRESGID: {
    const uint32_t *ids = ru->op == GETRESUID ? c->u : c->g;
    for (int i = 0; i < 3; i++) {
      int e = put_id(pid, a[i], ids[i], w);
      if (e) return e;
    }
    return 0;
  }
  case GETGROUPS:
    return get_groups(c, pid, a, w);
  case SETUID:
    r = ids_setone(n.u, arg_id(a[0], w), priv_u);
    break;
  case SETGID:
    r = ids_setone(n.g, arg_id(a[0], w), priv_g);
    break;
  case SETREUID:
    r = ids_setre(n.u, arg_id(a[0], w), arg_id(a[1], w), priv_u);
    break;
  case SETREGID:
    r = ids_setre(n.g, arg_id(a[0], w), arg_id(a[1], w), priv_g);
    break;
  case SETRESUID:
    r = ids_setres(n.u, arg_id(a[0], w), arg_id(a[1], w), arg_id(a[2], w), priv_u);
    break;
  case SETRESGID:
    r = ids_setres(n.g, arg_id(a[0], w), arg_id(a[1], w), arg_id(a[2], w), priv_g);
    break;
  case SETFSUID:
    r = overflow(ids_setfs(n.u, arg_id(a[0], w), priv_u), w);
    break;
  case SETFSGID:
    r = overflow(ids_setfs(n.g, arg_id(a[0], w), priv_g), w);
    break;
  case SETGROUPS:
    r = set_groups(&n, pid, a, w);
    break;
  default:
    return -ENOSYS;
  }
  int new_list = ru->op == SETGROUPS && r == 0;
  if (r >= 0 && !notif_valid()) r = -ESRCH;
  if (r < 0) {
    if (new_list) groups_unref(n.groups);
    return r;
  }
  if (new_list) groups_unref(c->groups);
  *c = n;
  return r;
}

/* Linux 6.6: the caller's wake-up switches straight to us and back, on its
 * CPU, instead of waking us anywhere (measured on a 2-CPU VM: a faked
 * getuid 135 us before). Older headers lack it; older kernels say EINVAL. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif

static void __attribute__((noreturn)) supervise(int listener) {
  struct seccomp_notif_sizes sz;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) _exit(1);
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif > sizeof *req ? sz.seccomp_notif : sizeof *req);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp > sizeof *resp ? sz.seccomp_notif_resp : sizeof *resp);
  if (!req || !resp) _exit(1);
  listener_fd = listener;
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
  /* Group lists of 256 KiB come and go: give their memory back when freed
   * (a fixed threshold keeps glibc from moving them onto the heap). */
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  for (;;) {
    struct pollfd pfd = { listener, POLLIN, 0 };
    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) _exit(0); /* no filtered process left */
    memset(req, 0, sz.seccomp_notif);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT) continue; /* the caller died meanwhile */
      _exit(1);
    }
    memset(resp, 0, sz.seccomp_notif_resp);
    resp->id = notif_id = req->id;
    const struct rule *ru = find_rule(req->data.arch, req->data.nr);
    int64_t r = ru ? emulate(ru, (pid_t)req->pid, (const uint64_t *)req->data.args) : -ENOSYS;
    if (mem_fd >= 0) close(mem_fd);
    mem_fd = -1;
    if (r < 0) resp->error = (int32_t)r;
    else resp->val = r;
    /* ENOENT: the call was interrupted (signal) or its task died: nothing to answer. */
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
  }
}

static void parse_rules(const struct rec *r) {
  rules = calloc((size_t)r->argc + 1, sizeof *rules);
  if (!rules) die(ENOMEM, "fakeroot", "rules");
  for (int i = 0; i < r->argc; i++) {
    char name[32];
    unsigned long long arch;
    int nr, width;
    if (sscanf(r->argv[i], "%llu:%d:%31[a-z]:%d", &arch, &nr, name, &width) != 4) die(0, "fakeroot", "bad rule %s", r->argv[i]);
    int op = 0;
    while (op < NOPS && strcmp(op_names[op], name)) op++;
    if (op == NOPS) die(0, "fakeroot", "unknown call %s", name);
    rules[nrules++] = (struct rule){ (uint32_t)arch, nr, (enum op)op, width };
  }
}

/* ---- start-up ------------------------------------------------------------ */

static int recv_listener(int sock) {
  char text[4096];
  struct iovec iov = { text, sizeof text - 1 };
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf };
  ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  if (n <= 0) return -1;
  text[n] = '\0';
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  char *s = text, *end;
  for (int i = 0; i < 6; i++) {
    unsigned long v = strtoul(s, &end, 10);
    if (i < 3) initial.u[i] = (uint32_t)v;
    else initial.g[i - 3] = (uint32_t)v;
    s = end;
  }
  initial.u[3] = initial.u[1];
  initial.g[3] = initial.g[1];
  int ng = (int)strtol(s, &end, 10);
  s = end;
  uint32_t list[256];
  if (ng < 0 || ng > 256) ng = 0;
  for (int i = 0; i < ng; i++, s = end) list[i] = (uint32_t)strtoul(s, &end, 10);
  int err;
  initial.groups = groups_intern(list, ng, &err);
  return fd;
}

/* In C1, before any setns/unshare (see the top of this file); fakeroot_sock is seccomp.c's. */
void start_fakeroot_supervisor(const struct plan *p) {
  const struct rec *ids = plan_find(p, "fakeids");
  if (!ids) return;
  parse_rules(ids);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die(errno, "fakeroot", "socketpair");
  pid_t s = fork();
  if (s < 0) die(errno, "fakeroot", "fork supervisor");
  if (s == 0) {
    /* Only the socket stays: the container's stdio (buildah reads those
     * pipes to EOF) and the runner's pipes must not be held open here. */
    if (dup3(sv[1], 3, O_CLOEXEC) != 3) _exit(1);
    syscall(SYS_close_range, 0, 2, 0);
    syscall(SYS_close_range, 4, ~0U, 0);
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_NAME, "chroci-fakeroot", 0, 0, 0);
    int listener = recv_listener(3);
    close(3);
    if (listener < 0) _exit(0); /* the container ended before it started */
    supervise(listener);
  }
  close(sv[1]);
  fakeroot_sock = sv[0];
}
