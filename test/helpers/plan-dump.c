/* Reads a plan on stdin with the runner's own parser (src/runner/plan.c) and
 * prints its records, one per line, each field as a JSON string: what the C
 * side sees of what TypeScript encoded. Exits 1 when the parser refuses the
 * plan. Used by test/unit/plan-protocol.test.ts. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/runner/runner.h"

/* plan.c reports through die(); this harness has no report channel. */
void die(int err, const char *step, const char *fmt, ...) {
  (void)err;
  (void)fmt;
  fprintf(stderr, "die: %s\n", step);
  exit(1);
}

static void json(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int main(void) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (ssize_t r; buf && (r = read(0, buf + n, cap - n)) > 0;) {
    n += (size_t)r;
    if (n == cap && !(buf = realloc(buf, cap *= 2))) break;
  }
  struct plan p;
  if (!buf || plan_parse(buf, n, &p) < 0) return 1;
  for (int i = 0; i < p.n; i++) {
    putchar('[');
    json(p.recs[i].tag);
    for (int a = 0; a < p.recs[i].argc; a++) {
      putchar(',');
      json(p.recs[i].argv[a]);
    }
    puts("]");
  }
  return 0;
}
