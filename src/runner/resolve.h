#ifndef CH_RESOLVE_H
#define CH_RESOLVE_H
#include <stddef.h>

#define PATH_BUF 4096

enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };

/* resolve_in_root flags. WALK_NO_SYMLINKS: no component may be a symbolic
 * link (ELOOP): kernel file systems are mounted only on real directories. */
#define WALK_NO_SYMLINKS 1

/* Canonical in-root path of `path` in `cur` ("" is the root itself); creates
 * missing components when asked (the last as a file with CREATE_FILE).
 * Symbolic links are followed inside the root, except those on procfs
 * (magic links such as /proc/self/fd/N lead to the runtime's own files):
 * those give ELOOP. Returns 0, or -1 with errno. */
int resolve_in_root(int rootfd, const char *path, enum create_kind create, int flags, char *cur, size_t cursize);
/* Opens a canonical in-root path (no symlinks left in it). */
int open_in_root(int rootfd, const char *canon, int flags);

#endif
