// The names of process.scheduler, process.ioPriority and linux.memoryPolicy
// and the kernel's numbers for them, shared by the planner
// (container/sched.ts) and the `features` document.

/** linux/sched.h; SCHED_ISO is in the spec's list but was never merged into Linux. */
export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

/** linux/sched.h SCHED_FLAG_*. */
export const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** linux/ioprio.h. */
export const IOPRIO_CLASSES: Readonly<Record<string, number>> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** linux/mempolicy.h. */
export const MPOL_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
};
