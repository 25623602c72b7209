/* Unit harness of the fake ids (src/runner/fakeids.c): the set*id rules as
 * the kernel applies them, and the shared group lists with their budget.
 * Built and run by test/unit/fakeids.test.ts; prints one line per failed
 * check and exits 1 if any failed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/runner/fakeids.h"

static int failed;
#define NONE UINT32_MAX
#define CHECK(cond)                                                                                                                        \
  do {                                                                                                                                     \
    if (!(cond)) {                                                                                                                         \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                                                               \
      failed = 1;                                                                                                                          \
    }                                                                                                                                      \
  } while (0)

static int same(const uint32_t *ids, uint32_t r, uint32_t e, uint32_t s, uint32_t fs) {
  return ids[0] == r && ids[1] == e && ids[2] == s && ids[3] == fs;
}

static void setres(void) {
  uint32_t ids[4] = { 0, 0, 0, 0 };
  /* Root may set anything; the fs id follows the effective one. */
  CHECK(ids_setres(ids, 100, 101, 102, 1) == 0 && same(ids, 100, 101, 102, 101));
  /* Unprivileged: only to one of its real, effective or saved ids; -1 leaves one. */
  CHECK(ids_setres(ids, 102, NONE, 100, 0) == 0 && same(ids, 102, 101, 100, 101));
  CHECK(ids_setres(ids, 7, NONE, NONE, 0) == -EPERM && same(ids, 102, 101, 100, 101));
}

static void setre(void) {
  uint32_t ids[4] = { 1000, 1000, 1000, 1000 };
  /* Setting the real id makes the saved one follow the effective one. */
  uint32_t root[4] = { 0, 0, 0, 0 };
  CHECK(ids_setre(root, 1000, 1001, 1) == 0 && same(root, 1000, 1001, 1001, 1001));
  /* The effective id changed away from the old real one: the saved one follows. */
  uint32_t a[4] = { 5, 5, 6, 5 };
  CHECK(ids_setre(a, NONE, 6, 0) == 0 && same(a, 5, 6, 6, 6));
  /* Back to the real id: the saved one stays. */
  CHECK(ids_setre(a, NONE, 5, 0) == 0 && same(a, 5, 5, 6, 5));
  CHECK(ids_setre(ids, 1, NONE, 0) == -EPERM);
}

static void setone(void) {
  uint32_t root[4] = { 0, 0, 0, 0 };
  /* Privileged setuid sets all four (how su and apt drop root for good). */
  CHECK(ids_setone(root, 42, 1) == 0 && same(root, 42, 42, 42, 42));
  uint32_t a[4] = { 5, 7, 9, 7 };
  /* Unprivileged: the effective (and fs) id to the real or saved one only. */
  CHECK(ids_setone(a, 9, 0) == 0 && same(a, 5, 9, 9, 9));
  CHECK(ids_setone(a, 8, 0) == -EPERM);
  CHECK(ids_setone(a, NONE, 1) == -EINVAL);
}

static void setfs(void) {
  uint32_t a[4] = { 5, 6, 7, 6 };
  /* setfsuid returns the old fs id, and changes it only to an allowed id. */
  CHECK(ids_setfs(a, 7, 0) == 6 && a[3] == 7);
  CHECK(ids_setfs(a, 99, 0) == 7 && a[3] == 7);
  CHECK(ids_setfs(a, NONE, 0) == 7 && a[3] == 7);
  CHECK(ids_setfs(a, 99, 1) == 7 && a[3] == 99);
}

static void groups(void) {
  int err;
  uint32_t g[3] = { 4, 24, 27 };
  CHECK(groups_intern(g, 0, &err) == NULL && err == 0);
  struct groups *a = groups_intern(g, 3, &err), *b = groups_intern(g, 3, &err);
  /* Equal lists are one list, counted once. */
  CHECK(a && a == b && a->refs == 2 && a->n == 3 && !memcmp(a->g, g, sizeof g));
  size_t one = groups_in_use();
  CHECK(one > 0);
  groups_unref(b);
  groups_unref(a);
  CHECK(groups_in_use() == 0);
  /* Distinct big lists: the budget holds, then ENOMEM, and freeing gives it back. */
  enum { N = 65536 };
  uint32_t *big = calloc(N, sizeof *big);
  struct groups *kept[64];
  int made = 0;
  for (; made < 64; made++) {
    big[0] = (uint32_t)made;
    if (!(kept[made] = groups_intern(big, N, &err))) break;
  }
  CHECK(made > 0 && made < 64 && err == -ENOMEM);
  CHECK(groups_in_use() <= GROUPS_BUDGET);
  for (int i = 0; i < made; i++) groups_unref(kept[i]);
  CHECK(groups_in_use() == 0);
  free(big);
}

int main(void) {
  setres();
  setre();
  setone();
  setfs();
  groups();
  if (!failed) printf("fakeids: all checks passed\n");
  return failed;
}
