/* The fake ids of fake root, pure (see fakeids.h). 65,536 groups take
 * 256 KiB: without sharing and a budget a few hundred processes calling
 * setgroups could make the supervisor hold gigabytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakeids.h"

/* The rules of set*id for a fake process: root (fake euid 0) may set
 * anything; others only to one of their real/effective/saved ids. */
static int may_set(const uint32_t *ids, uint32_t v, int priv) {
  return priv || v == UINT32_MAX || v == ids[0] || v == ids[1] || v == ids[2];
}

int ids_setres(uint32_t *ids, uint32_t r, uint32_t e, uint32_t s, int priv) {
  if (!may_set(ids, r, priv) || !may_set(ids, e, priv) || !may_set(ids, s, priv)) return -EPERM;
  if (r != UINT32_MAX) ids[0] = r;
  if (e != UINT32_MAX) ids[1] = e;
  if (s != UINT32_MAX) ids[2] = s;
  ids[3] = ids[1];
  return 0;
}

int ids_setre(uint32_t *ids, uint32_t r, uint32_t e, int priv) {
  uint32_t old_r = ids[0];
  if (!may_set(ids, r, priv) || !may_set(ids, e, priv)) return -EPERM;
  if (r != UINT32_MAX) ids[0] = r;
  if (e != UINT32_MAX) ids[1] = e;
  /* POSIX/Linux: the saved id follows the effective one when the real id
   * is set or the effective one changes away from the old real id. */
  if (r != UINT32_MAX || (e != UINT32_MAX && e != old_r)) ids[2] = ids[1];
  ids[3] = ids[1];
  return 0;
}

int ids_setone(uint32_t *ids, uint32_t v, int priv) {
  if (v == UINT32_MAX) return -EINVAL;
  if (priv) ids[0] = ids[1] = ids[2] = ids[3] = v;
  else if (v == ids[0] || v == ids[2]) ids[1] = ids[3] = v;
  else return -EPERM;
  return 0;
}

uint32_t ids_setfs(uint32_t *ids, uint32_t v, int priv) {
  uint32_t old = ids[3];
  if (v != UINT32_MAX && (priv || v == ids[0] || v == ids[1] || v == ids[2] || v == ids[3])) ids[3] = v;
  return old;
}

static size_t groups_bytes;
static struct groups **interned;
static size_t ninterned, capinterned;

static int grow_interned(void) {
  size_t cap = capinterned ? capinterned * 2 : 64;
  struct groups **t = realloc(interned, cap * sizeof *t);
  if (!t) return 0;
  interned = t;
  capinterned = cap;
  return 1;
}

static size_t groups_size(int n) {
  return sizeof(struct groups) + (size_t)n * sizeof(uint32_t);
}

struct groups *groups_ref(struct groups *l) {
  if (l) l->refs++;
  return l;
}

void groups_unref(struct groups *l) {
  if (!l || --l->refs) return;
  for (size_t i = 0; i < ninterned; i++)
    if (interned[i] == l) {
      interned[i] = interned[--ninterned];
      break;
    }
  groups_bytes -= groups_size(l->n);
  free(l);
}

static uint64_t groups_hash(const uint32_t *g, int n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (int i = 0; i < n; i++) h = (h ^ g[i]) * 1099511628211ull;
  return h;
}

struct groups *groups_intern(const uint32_t *g, int n, int *err) {
  *err = 0;
  if (n == 0) return NULL;
  uint64_t h = groups_hash(g, n);
  for (size_t i = 0; i < ninterned; i++) {
    struct groups *l = interned[i];
    if (l->n == n && l->hash == h && !memcmp(l->g, g, (size_t)n * sizeof *g)) return groups_ref(l);
  }
  size_t size = groups_size(n);
  struct groups *l = NULL;
  if (groups_bytes + size > GROUPS_BUDGET || (ninterned == capinterned && !grow_interned()) || !(l = malloc(size))) {
    *err = -ENOMEM;
    return NULL;
  }
  l->refs = 1;
  l->n = n;
  l->hash = h;
  memcpy(l->g, g, (size_t)n * sizeof *g);
  interned[ninterned++] = l;
  groups_bytes += size;
  return l;
}

size_t groups_in_use(void) {
  return groups_bytes;
}
