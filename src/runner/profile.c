/* The container's seccomp profile (linux.seccomp), decided by
 * src/container/profile.ts and built here with libseccomp:
 *   scmp-default ACTION, scmp-arch NAME, scmp-flag ATTR,
 *   scmp-rule ACTION NAME [INDEX:OP:A:B]...
 * The filter is built in C2 at create (so a bad profile fails create, and
 * the notes about syscall names this libseccomp does not know reach the
 * caller), and loaded last before execve: nothing the set-up needs can be
 * denied by it. libseccomp resolves each name per architecture, including
 * the multiplexed i386 socket calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static scmp_filter_ctx ctx;

static void attr(enum scmp_filter_attr a, uint32_t v, const char *what) {
  int rc = seccomp_attr_set(ctx, a, v);
  if (rc < 0) die(-rc, "linux.seccomp", "%s", what);
}

static void add_rule(const struct rec *r, const char **noted) {
  uint32_t action = (uint32_t)num(r->argv[0]);
  const char *name = r->argv[1];
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) {
    /* As runc and crun: a profile may name calls newer than this libseccomp. */
    if (!*noted || strcmp(*noted, name)) note("seccomp: unknown syscall %s skipped", name);
    *noted = name;
    return;
  }
  int n = r->argc - 2;
  if (n > 6) die(0, "linux.seccomp", "%s: more than 6 conditions", name);
  struct scmp_arg_cmp cmp[6];
  for (int i = 0; i < n; i++) {
    unsigned idx, op;
    unsigned long long a, b;
    if (sscanf(r->argv[2 + i], "%u:%u:%llu:%llu", &idx, &op, &a, &b) != 4) die(0, "linux.seccomp", "bad condition %s", r->argv[2 + i]);
    cmp[i] = (struct scmp_arg_cmp){ idx, (enum scmp_compare)op, a, b };
  }
  int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)n, cmp);
  if (rc < 0) die(-rc, "linux.seccomp", "add the rule for %s", name);
}

void profile_build(const struct plan *p) {
  const struct rec *d = plan_find(p, "scmp-default");
  if (!d) return;
  if (!(ctx = seccomp_init((uint32_t)num(d->argv[0])))) die(0, "linux.seccomp", "libseccomp refused the default action");
  /* no_new_privs is process.noNewPrivileges' business, not the filter's. */
  attr(SCMP_FLTATR_CTL_NNP, 0, "no_new_privs attribute");
  /* Errors as the kernel gives them, not libseccomp's generic ECANCELED. */
  attr(SCMP_FLTATR_API_SYSRAWRC, 1, "raw return codes");
  const char *noted = NULL;
  for (int i = 0; i < p->n; i++) {
    const struct rec *r = &p->recs[i];
    if (!strcmp(r->tag, "scmp-arch")) {
      uint32_t arch = seccomp_arch_resolve_name(r->argv[0]);
      if (!arch) die(0, "linux.seccomp.architectures", "%s is unknown to libseccomp", r->argv[0]);
      int rc = seccomp_arch_add(ctx, arch);
      if (rc < 0 && rc != -EEXIST) die(-rc, "linux.seccomp.architectures", "add %s", r->argv[0]);
    } else if (!strcmp(r->tag, "scmp-flag")) {
      const char *f = r->argv[0];
      if (!strcmp(f, "tsync")) attr(SCMP_FLTATR_CTL_TSYNC, 1, "SECCOMP_FILTER_FLAG_TSYNC");
      else if (!strcmp(f, "log")) attr(SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG");
      else if (!strcmp(f, "spec_allow")) attr(SCMP_FLTATR_CTL_SSB, 1, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
      else if (!strcmp(f, "optimize")) attr(SCMP_FLTATR_CTL_OPTIMIZE, 2, "binary tree optimization");
      else die(0, "linux.seccomp.flags", "unknown flag %s", f);
    } else if (!strcmp(r->tag, "scmp-rule")) {
      if (r->argc < 2) die(0, "linux.seccomp", "malformed rule");
      add_rule(r, &noted);
    }
  }
}

/* Right before execve. Without no_new_privs the kernel wants CAP_SYS_ADMIN
 * in our user namespace: still in the permitted set here (the caller orders
 * this before the final capset when no_new_privs is off). */
void profile_load(void) {
  if (!ctx) return;
  raise_sys_admin();
  int rc = seccomp_load(ctx);
  if (rc < 0) die(-rc, "linux.seccomp", "load the profile");
  /* Not released: freeing could itself make calls the profile denies; execve drops it. */
}
