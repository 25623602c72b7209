/* ch-run-oci runner: shared declarations.
 * The runner carries no policy: TypeScript decides every step and encodes it
 * as records (see plan.c); the C side executes them in order and reports the
 * first failure naming the step. */
#ifndef CH_RUNNER_H
#define CH_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

/* One plan record: a tag and its arguments (pointers into the plan buffer). */
struct rec {
  const char *tag;
  int argc;
  char **argv;
};

struct plan {
  struct rec *recs;
  int n;
};

/* plan.c */
int plan_parse(char *buf, size_t len, struct plan *p);
const struct rec *plan_find(const struct plan *p, const char *tag);
unsigned long long num(const char *s);

/* report.c: failures. `die` formats "error STEP: DETAIL: strerror(errno)" (or
 * without the errno part when err == 0), sends it to the current sink and exits 1. */
void report_to(int fd);
extern void (*die_hook)(void); /* R: kill and reap children before reporting */
void die(int err, const char *step, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A fallback the runner took, for `--debug`: "note TEXT" on the report
 * channel during set-up (R forwards its children's); nothing afterwards. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ssize_t read_line(int fd, char *buf, size_t size);
ssize_t send_with_fd(int sock, int fd, const void *data, size_t len);

/* mount.c: everything between unshare and pivot_root (runs in C2), and the
 * sysfs that C1 makes before the unshare for a joined network namespace. */
void setup_mounts(const struct plan *p, void (*before_pivot)(const struct plan *));
void premake_sysfs(const struct plan *p);
void lock_binds(const struct plan *p);

/* proc.c: process settings. */
void setup_process_early(const struct plan *p); /* before pivot: oom */
void setup_process_create(const struct plan *p); /* after pivot, before the fifo */
const char *resolve_exec(const struct plan *p); /* PATH lookup inside the container */
void exec_container(const struct plan *p, const char *path) __attribute__((noreturn));

/* passwd.c: the home directory of UID in the container's /etc/passwd ("/" without one). */
char *passwd_home(uid_t uid);

/* seccomp.c: fake root. C1 forks the supervisor (`fakeids`) before joining
 * or creating namespaces; C2 keeps the socket to it across the fd cleanup and
 * installs the filter (`seccomp HEX`) after the ids are set. */
extern int fakeroot_sock;
void start_fakeroot_supervisor(const struct plan *p);
unsigned int fakeroot_keep_fd(unsigned int keep);
void install_seccomp(const struct plan *p);
void raise_sys_admin(void);

/* profile.c: linux.seccomp. Built in C2 before it reports "ok" (its notes
 * reach the caller), loaded last before execve. */
void profile_build(const struct plan *p);
void profile_load(void);

/* sysctl.c: writes the records tagged TAG ("sysctl" in C2 before the mounts,
 * "joined-sysctl" in C1 after the joins). */
void write_sysctls(const struct plan *p, const char *tag);

/* procs.c: `procs list|kill …`, the container's processes (ps, kill --all, delete). */
int procs_main(int argc, char **argv);

/* keyring.c: the session keyring named by a `keyring NAME` record. */
void join_keyring(const struct plan *p);

/* cgroup.c: C1 joins the container's cgroups (`cgroup FILE…`) first. */
void join_cgroups(const struct plan *p);

/* sched.c: R sets C2's scheduler and I/O priority by pid (the caller's
 * privilege); C1 the initial affinity and the time offsets, C2 the final
 * affinity and the memory policy, each on itself. */
void apply_sched(const struct plan *p, pid_t pid);
void apply_cpus(const struct plan *p, const char *tag);
void apply_mempolicy(const struct plan *p);
void write_time_offsets(const struct plan *p);
/* tty.c: process.terminal. C2 makes the pty and sends R the master over
 * TO_RUNNER; R connects the console socket, receives the master and sends it
 * on, or relays it in the foreground (returns the child's status). */
void tty_setup(const struct plan *p, int to_runner);
int tty_connect(const char *path);
int tty_receive(int from_c2);
void tty_send(int sock, int master);
void tty_size_from_stdin(int master);
int tty_relay(int master, pid_t child);
/* hooks.c: the hook pause (C2, before pivot_root: "hooks" on SYNC_W, the
 * states from GO_R, then the createContainer hooks) and the startContainer
 * hooks (at start, their output and result on the exec fifo). */
void hooks_pause(const struct plan *p, int sync_w, int go_r);
void hooks_start(const struct plan *p, int fifo_fd);

/* child.c: C1 (namespaces) and C2 (container) */
struct pipes {
  int sync_r, sync_w; /* children -> R: "unshared", "pid N", "ok", "ack", "error ..." */
  int maps_r, maps_w; /* R -> C1: id maps written */
  int go_r, go_w; /* R -> C2: report sent, detach */
  int hold_r, hold_w; /* R -> C1: closed when C1 may exit */
  int tty_r, tty_w; /* C2 -> R: the pty master (a socket pair; -1 without a terminal) */
};
void run_c1(const struct plan *p, struct pipes *pp, pid_t runner) __attribute__((noreturn));

#endif
