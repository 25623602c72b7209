/* Plan parser. Wire format (written by src/runner/protocol.ts):
 *   record := TAG '\0' COUNT '\0' ARG '\0' ... (COUNT args)
 * COUNT is decimal. Arguments may be empty or hold newlines; NUL never occurs
 * in them (TypeScript rejects it). The first record must be "v" "2". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* Sanity bounds only: TypeScript keeps args and env within what execve takes. */
#define PLAN_MAX_ARGS 4000000

/* Next NUL-terminated field at *off, or NULL when the buffer ends mid-field. */
static char *field(char *buf, size_t len, size_t *off) {
  if (*off >= len) return NULL;
  char *s = buf + *off;
  char *end = memchr(s, '\0', len - *off);
  if (!end) return NULL;
  *off = (size_t)(end - buf) + 1;
  return s;
}

int plan_parse(char *buf, size_t len, struct plan *p) {
  size_t off = 0;
  int cap = 64;
  p->n = 0;
  p->recs = calloc((size_t)cap, sizeof *p->recs);
  if (!p->recs) return -1;
  while (off < len) {
    char *tag = field(buf, len, &off);
    char *cnt = field(buf, len, &off);
    if (!tag || !cnt) return -1;
    char *endp;
    long c = strtol(cnt, &endp, 10);
    if (*cnt == '\0' || *endp != '\0' || c < 0 || c > PLAN_MAX_ARGS) return -1;
    char **argv = calloc((size_t)c + 1, sizeof(char *));
    if (!argv) return -1;
    for (long i = 0; i < c; i++)
      if (!(argv[i] = field(buf, len, &off))) return -1;
    if (p->n == cap) {
      cap *= 2;
      struct rec *r = realloc(p->recs, (size_t)cap * sizeof *r);
      if (!r) return -1;
      p->recs = r;
    }
    p->recs[p->n++] = (struct rec){ tag, (int)c, argv };
  }
  if (p->n == 0 || strcmp(p->recs[0].tag, "v") || p->recs[0].argc != 1 || strcmp(p->recs[0].argv[0], "2")) return -1;
  return 0;
}

const struct rec *plan_find(const struct plan *p, const char *tag) {
  for (int i = 0; i < p->n; i++)
    if (!strcmp(p->recs[i].tag, tag)) return &p->recs[i];
  return NULL;
}

/* Numbers in the plan are produced by TypeScript and always valid decimal. */
unsigned long long num(const char *s) {
  return strtoull(s, NULL, 10);
}
