/* Process settings of the container: rlimits, umask, cwd and the executable
 * lookup happen at create time (so their failures are reported by create);
 * ids, capabilities and no_new_privs right before execve, after `start`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

void setup_process_early(const struct plan *p) {
  /* C1 calls this while still dumpable (child.c): /proc/self of a process
   * that is not is root's. C2 inherits the value, and the flag. */
  static int applied;
  if (applied) return;
  applied = 1;
  const struct rec *r = plan_find(p, "oom");
  if (!r) return;
  /* Written while /proc is still the host's. Lowering the score needs
   * CAP_SYS_RESOURCE in the initial namespace, so an unprivileged caller gets
   * an error naming the field rather than a silently different value. */
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(errno, "process.oomScoreAdj", "open /proc/self/oom_score_adj");
  if (write(fd, r->argv[0], strlen(r->argv[0])) < 0) die(errno, "process.oomScoreAdj", "write %s", r->argv[0]);
  close(fd);
}

static void enter_cwd(const char *cwd);

static rlim_t limit(const char *s) {
  return strcmp(s, "unlimited") ? (rlim_t)num(s) : RLIM_INFINITY;
}

/* RLIMIT_NOFILE's soft limit while we wait on the exec fifo: opening it needs
 * a free fd, so a tiny soft limit (0, 1…) would kill the container at start.
 * At create both limits are raised to at least this (a hard limit above the
 * caller's still fails there, naming the field); the exact limits are set
 * right before execve, where lowering them always works. */
#define NOFILE_SETUP_SOFT 64

/* "HOME=…" to add to the environment (the plan's `home` record), or NULL. */
static char *home_env;

void setup_process_create(const struct plan *p) {
  /* Read now, while the runner still has the ids and the capabilities of the
   * set-up; relative to the container's root, before any chdir. */
  const struct rec *h = plan_find(p, "home");
  if (h) {
    char *home = passwd_home((uid_t)num(h->argv[0]));
    if (!home || asprintf(&home_env, "HOME=%s", home) < 0) die(ENOMEM, "process.env", "HOME");
    free(home);
  }
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    if (strcmp(r->tag, "rlimit")) continue;
    struct rlimit rl = { limit(r->argv[2]), limit(r->argv[3]) };
    if ((int)num(r->argv[1]) == RLIMIT_NOFILE && (rl.rlim_cur < NOFILE_SETUP_SOFT || rl.rlim_max < NOFILE_SETUP_SOFT)) {
      note("RLIMIT_NOFILE at least %d during set-up; the exact limits are set right before the program runs", NOFILE_SETUP_SOFT);
      if (rl.rlim_cur < NOFILE_SETUP_SOFT) rl.rlim_cur = NOFILE_SETUP_SOFT;
      if (rl.rlim_max < NOFILE_SETUP_SOFT) rl.rlim_max = NOFILE_SETUP_SOFT;
    }
    if (setrlimit((int)num(r->argv[1]), &rl) < 0) die(errno, "process.rlimits", "%s soft %s hard %s", r->argv[0], r->argv[2], r->argv[3]);
  }
  const struct rec *u = plan_find(p, "umask");
  umask(u ? (mode_t)num(u->argv[0]) : 022);
  const struct rec *c = plan_find(p, "cwd");
  if (c) enter_cwd(c->argv[0]);
}

/* Paths the container controls are looked up without magic links: none of
 * them may lead through /proc/self/fd/N to a file of ours (cf. runc's
 * CVE-2024-21626, where a leaked fd of the host became the cwd). */
static int open_path(const char *path, int flags) {
  struct open_how how = { .flags = (unsigned long long)(flags | O_PATH | O_CLOEXEC), .resolve = RESOLVE_NO_MAGICLINKS };
  return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

/* chdir into the container's cwd (after pivot_root or the join of its mount
 * namespace), then check that the kernel sees it inside our root. */
static void enter_cwd(const char *cwd) {
  int fd = open_path(cwd, O_DIRECTORY);
  if (fd < 0) die(errno, "process.cwd", "%s", cwd);
  if (fchdir(fd) < 0) die(errno, "process.cwd", "%s", cwd);
  close(fd);
  char buf[PATH_MAX];
  /* getcwd fails (ENOENT) for a directory outside the root. */
  if (!getcwd(buf, sizeof buf) || buf[0] != '/') die(0, "process.cwd", "%s is not inside the container", cwd);
}

static int executable(const char *path) {
  struct stat st;
  int fd = open_path(path, 0);
  if (fd < 0) return 0;
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
  close(fd);
  return ok;
}

/* args[0] without a '/' is looked up in the container's PATH (given by the
 * plan), as a shell would. */
const char *resolve_exec(const struct plan *p) {
  const struct rec *a = plan_find(p, "args");
  if (!a || a->argc < 1) die(0, "process.args", "empty");
  const char *arg0 = a->argv[0];
  if (strchr(arg0, '/')) {
    int fd = open_path(arg0, 0);
    if (fd < 0) die(errno, "exec", "%s", arg0);
    close(fd);
    /* A directory or a file without x bits would fail execve only after
     * start; refuse it here, at create, like runc's lookup does. */
    if (!executable(arg0)) die(EACCES, "exec", "%s", arg0);
    return arg0;
  }
  const struct rec *pr = plan_find(p, "path");
  const char *path = pr ? pr->argv[0] : "";
  size_t alen = strlen(arg0);
  while (1) {
    size_t dlen = strcspn(path, ":");
    char *cand = malloc(dlen + alen + 3);
    if (!cand) die(ENOMEM, "exec", "%s", arg0);
    if (dlen == 0) strcpy(cand, "./");
    else {
      memcpy(cand, path, dlen);
      strcpy(cand + dlen, "/");
    }
    strcat(cand, arg0);
    if (executable(cand)) return cand;
    free(cand);
    if (!path[dlen]) break;
    path += dlen + 1;
  }
  die(0, "exec", "\"%s\": executable file not found in $PATH", arg0);
}

static void list(const struct plan *p, const char *tag, char ***out) {
  const struct rec *r = plan_find(p, tag);
  static char *empty[] = { NULL };
  *out = r ? r->argv : empty;
}

static void set_caps(const struct rec *c) {
  unsigned long long bset = num(c->argv[0]);
  /* The bounding set first: dropping needs CAP_SETPCAP, still held here. */
  for (int cap = 0; cap < 64; cap++) {
    if (bset & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      die(errno, "process.capabilities", "drop bounding %d", cap);
    }
  }
}

static void set_caps_final(const struct rec *c) {
  unsigned long long eff = num(c->argv[1]), perm = num(c->argv[2]), inh = num(c->argv[3]), amb = num(c->argv[4]);
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = {
    { (unsigned)eff, (unsigned)perm, (unsigned)inh },
    { (unsigned)(eff >> 32), (unsigned)(perm >> 32), (unsigned)(inh >> 32) },
  };
  if (syscall(SYS_capset, &h, d) < 0) die(errno, "process.capabilities", "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) die(errno, "process.capabilities", "clear ambient");
  for (int cap = 0; cap < 64; cap++)
    if ((amb & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      die(errno, "process.capabilities", "raise ambient %d", cap);
}

void exec_container(const struct plan *p, const char *path) {
  const struct rec *pre = plan_find(p, "preserve");
  unsigned int keep = 3 + (pre ? (unsigned)num(pre->argv[0]) : 0);
  /* Nothing but stdio and the preserved fds reaches the container (the
   * fake-root socket, kept here, is closed by install_seccomp). */
  keep = fakeroot_keep_fd(keep);
  if (syscall(SYS_close_range, keep, ~0U, 0) < 0) die(errno, "exec", "close fds");

  const struct rec *caps = plan_find(p, "caps");
  if (caps) set_caps(caps);
  const struct rec *g = plan_find(p, "groups");
  if (g) {
    gid_t *gs = calloc((size_t)g->argc + 1, sizeof *gs);
    for (int i = 0; gs && i < g->argc; i++) gs[i] = (gid_t)num(g->argv[i]);
    if (!gs || setgroups((size_t)g->argc, gs) < 0) die(errno, "process.user.additionalGids", "setgroups");
  }
  const struct rec *u = plan_find(p, "user");
  if (u) {
    uid_t uid = (uid_t)num(u->argv[0]);
    gid_t gid = (gid_t)num(u->argv[1]);
    /* Keep the permitted set across the uid change; capset below decides. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die(errno, "process.user", "prctl KEEPCAPS");
    if (setresgid(gid, gid, gid) < 0) die(errno, "process.user.gid", "setresgid %u", gid);
    if (setresuid(uid, uid, uid) < 0) die(errno, "process.user.uid", "setresuid %u", uid);
  }
  /* After our own id calls (the filter would fake them), before the final
   * capset (installing may need CAP_SYS_ADMIN, which that may drop). */
  install_seccomp(p);
  /* RLIMIT_NOFILE only now: the fake-root filter needed one more fd. */
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    if (strcmp(r->tag, "rlimit") || (int)num(r->argv[1]) != RLIMIT_NOFILE) continue;
    struct rlimit rl = { limit(r->argv[2]), limit(r->argv[3]) };
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die(errno, "process.rlimits", "%s soft %s", r->argv[0], r->argv[2]);
  }
  const struct rec *pe = plan_find(p, "personality");
  if (pe && personality((unsigned long)num(pe->argv[0])) < 0) die(errno, "linux.personality", "personality %s", pe->argv[0]);
  /* The profile comes last, after the fake-root filter (for the same kind
   * of answer the newest filter wins: a denied chown stays denied). Without
   * no_new_privs loading it needs CAP_SYS_ADMIN, which the final capset may
   * drop: then it goes before that capset, as in runc. */
  int nnp = plan_find(p, "nonewprivs") != NULL;
  if (!nnp) profile_load();
  if (caps) set_caps_final(caps);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(errno, "process.noNewPrivileges", "prctl");
  if (nnp) profile_load();

  char **argv, **envp;
  list(p, "args", &argv);
  list(p, "env", &envp);
  if (home_env) {
    size_t n = 0;
    while (envp[n]) n++;
    char **with = calloc(n + 2, sizeof *with);
    if (!with) die(ENOMEM, "process.env", "HOME");
    memcpy(with, envp, n * sizeof *with);
    with[n] = home_env;
    envp = with;
  }
  execve(path, argv, envp);
  int err = errno;
  say(2, "ch-run-oci: exec: %s: %s\n", path, strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}
