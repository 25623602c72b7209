/* Scheduling, I/O priority, CPU affinity, memory policy and time offsets
 * (records `sched`, `ioprio`, `cpus-initial`, `cpus-final`, `mempolicy`,
 * `timens`; TypeScript has checked every value, src/container/sched.ts).
 *
 * Who applies what follows the kernel's permission checks. A real-time policy,
 * a lower nice value and IOPRIO_CLASS_RT need CAP_SYS_NICE in the initial user
 * namespace, which no process inside the container's user namespace ever has,
 * also when root created it: so R sets the scheduler and the I/O priority of C2
 * by pid, with the caller's own privilege, once the caller said "go" (it has
 * written the cgroup limits then, real-time runtime included) and before C2
 * runs anything of the container. An unprivileged caller can do what the kernel lets any process do
 * to its own (a higher nice, SCHED_BATCH, SCHED_IDLE, best-effort or idle I/O);
 * the kernel's refusal of the rest fails create naming the field. The memory
 * policy and the affinity belong to the calling thread only: each process sets
 * its own. Every setting is inherited across fork and execve. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

/* include/uapi/linux/sched/types.h (glibc 2.36 has no sched_setattr). */
struct sched_attr_v1 {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

#define IOPRIO_WHO_PROCESS 1

void apply_sched(const struct plan *p, pid_t pid) {
  const struct rec *s = plan_find(p, "sched");
  if (s) {
    struct sched_attr_v1 a = {
      .size = sizeof a,
      .sched_policy = (uint32_t)num(s->argv[0]),
      .sched_flags = num(s->argv[1]),
      .sched_nice = (int32_t)strtol(s->argv[2], NULL, 10),
      .sched_priority = (uint32_t)num(s->argv[3]),
      .sched_runtime = num(s->argv[4]),
      .sched_deadline = num(s->argv[5]),
      .sched_period = num(s->argv[6]),
      /* UTIL_CLAMP flags with the spec's (absent) clamp values: the full range. */
      .sched_util_min = 0,
      .sched_util_max = 1024,
    };
    if (syscall(SYS_sched_setattr, pid, &a, 0) < 0) {
      int err = errno;
      /* The kernel says EPERM for both missing causes of a real-time policy. */
      if (err == EPERM && a.sched_policy != 0 && a.sched_policy != 3 && a.sched_policy != 5)
        die(err, "process.scheduler",
            "sched_setattr %s (needs CAP_SYS_NICE on the host and, under a cpu controller with real-time groups, "
            "linux.resources.cpu.realtimeRuntime)",
            s->argv[7]);
      die(err, "process.scheduler", "sched_setattr %s", s->argv[7]);
    }
    note("process.scheduler: %s set", s->argv[7]);
  }
  const struct rec *io = plan_find(p, "ioprio");
  if (io) {
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, (int)num(io->argv[0])) < 0)
      die(errno, "process.ioPriority", "ioprio_set %s", io->argv[1]);
    note("process.ioPriority: %s set", io->argv[1]);
  }
}

void apply_cpus(const struct plan *p, const char *tag) {
  const struct rec *r = plan_find(p, tag);
  if (!r || r->argc == 0) return;
  const char *field = !strcmp(tag, "cpus-initial") ? "process.execCPUAffinity.initial" : "process.execCPUAffinity.final";
  unsigned long max = 0;
  for (int i = 0; i < r->argc; i++)
    if (num(r->argv[i]) > max) max = (unsigned long)num(r->argv[i]);
  cpu_set_t *set = CPU_ALLOC(max + 1);
  if (!set) die(ENOMEM, field, "cpu set");
  size_t size = CPU_ALLOC_SIZE(max + 1);
  CPU_ZERO_S(size, set);
  for (int i = 0; i < r->argc; i++) CPU_SET_S((size_t)num(r->argv[i]), size, set);
  if (sched_setaffinity(0, size, set) < 0) die(errno, field, "sched_setaffinity");
  CPU_FREE(set);
  note("%s: %d CPUs set", field, r->argc);
}

/* Bits up to MAX_NODES (src/container/sched.ts). */
#define NODE_WORDS (1024 / (8 * sizeof(unsigned long)))

void apply_mempolicy(const struct plan *p) {
  const struct rec *r = plan_find(p, "mempolicy");
  if (!r) return;
  unsigned long mask[NODE_WORDS] = { 0 };
  unsigned long maxnode = 0;
  for (int i = 2; i < r->argc; i++) {
    unsigned long n = (unsigned long)num(r->argv[i]);
    if (n >= NODE_WORDS * 8 * sizeof(unsigned long)) die(EINVAL, "linux.memoryPolicy.nodes", "node %lu", n);
    mask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
    /* The kernel reads maxnode - 1 bits. */
    if (n + 2 > maxnode) maxnode = n + 2;
  }
  if (syscall(SYS_set_mempolicy, (int)num(r->argv[0]), maxnode ? mask : NULL, maxnode) < 0)
    die(errno, "linux.memoryPolicy", "set_mempolicy %s", r->argv[1]);
  note("linux.memoryPolicy: %s set", r->argv[1]);
}

/* C1, in its new user namespace with the maps written (CAP_SYS_TIME there),
 * before it forks C2: offsets can be set only while no process has entered
 * the time namespace, which C1 itself never does (unshare(CLONE_NEWTIME)
 * applies to its children). */
void write_time_offsets(const struct plan *p) {
  const struct rec *r = plan_find(p, "timens");
  if (!r) return;
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(errno, "linux.timeOffsets", "open /proc/self/timens_offsets");
  size_t len = strlen(r->argv[0]);
  ssize_t w = write(fd, r->argv[0], len);
  if (w < 0 || (size_t)w != len) die(w < 0 ? errno : EIO, "linux.timeOffsets", "write /proc/self/timens_offsets");
  close(fd);
  note("linux.timeOffsets: set");
}
