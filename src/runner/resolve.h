#ifndef CH_RESOLVE_H
#define CH_RESOLVE_H
#include <stddef.h>

#define PATH_BUF 4096

enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };

/* Canonical in-root path of `path` in `cur` ("" is the root itself); creates
 * missing components when asked (the last as a file with CREATE_FILE).
 * Returns 0, or -1 with errno. */
int resolve_in_root(int rootfd, const char *path, enum create_kind create, char *cur, size_t cursize);
/* Opens a canonical in-root path (no symlinks left in it). */
int open_in_root(int rootfd, const char *canon, int flags);

#endif
