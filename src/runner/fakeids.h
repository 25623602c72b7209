/* The fake ids of fake root, pure: the set*id rules and the shared
 * supplementary group lists. No system call here: supervisor.c feeds it what
 * the container's calls ask, test/helpers/fakeids-test.c checks the rules. */
#ifndef CH_FAKEIDS_H
#define CH_FAKEIDS_H
#include <stddef.h>
#include <stdint.h>

/* ids[0..3] = real, effective, saved, fs. UINT32_MAX as an argument means
 * "unchanged" (-1). priv: the fake process holds CAP_SETUID/CAP_SETGID (its
 * fake euid is 0). They return 0 or a negative errno, as the kernel would;
 * ids_setfs returns the previous fs id. */
int ids_setres(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s, int priv);
int ids_setre(uint32_t *ids, uint32_t r, uint32_t e, int priv);
int ids_setone(uint32_t *ids, uint32_t v, int priv);
uint32_t ids_setfs(uint32_t *ids, uint32_t v, int priv);

/* A supplementary group list: refcounted, never changed once made, and
 * interned, so two equal lists are one. */
struct groups {
  unsigned refs;
  int n;
  uint64_t hash;
  uint32_t g[];
};
/* All lists together stay under this; past it groups_intern fails (-ENOMEM). */
#define GROUPS_BUDGET (4u << 20)
/* The shared list holding G[0..N) (a new reference), NULL for none; *err is
 * -ENOMEM past the budget. */
struct groups *groups_intern(const uint32_t *g, int n, int *err);
struct groups *groups_ref(struct groups *l);
void groups_unref(struct groups *l);
/* Bytes the live lists take (for the budget and the tests). */
size_t groups_in_use(void);

#endif
