/* The session keyring (record `keyring NAME`, absent with --no-new-keyring).
 * Every process inherits its parent's session keyring, so without this the
 * container could search and read the caller's session keys (`keyctl show
 * @s`). C2 joins the keyring NAME (the container id): create makes it (names
 * are per user namespace, and the container's is new), exec finds the
 * container's by that name and joins it too. keyctl(2) directly: no
 * libkeyutils in a static runner. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

/* Permission bits (linux/key.h, not exported to user space). */
#define KEY_POS_ALL 0x3f000000u
#define KEY_USR_VIEW 0x00010000u
#define KEY_USR_READ 0x00020000u
#define KEY_USR_SEARCH 0x00080000u
#define KEY_USR_LINK 0x00100000u

void join_keyring(const struct plan *p) {
  const struct rec *r = plan_find(p, "keyring");
  if (!r) return;
  long ring = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, r->argv[0], 0, 0, 0);
  if (ring < 0) {
    /* A kernel without keys (or a seccomp policy refusing keyctl) has no
     * session keyring to share either: nothing to keep out, as runc does. */
    if (errno == ENOSYS) return;
    /* EDQUOT: the owner's key quota (kernel.keys.maxkeys/maxbytes) is used
     * up. Refused like runc and crun: going on would share the caller's keys. */
    die(errno, "session keyring", "join \"%s\" (--no-new-keyring keeps the caller's)", r->argv[0]);
  }
  /* A new keyring is owned by our ids and searchable only by its possessors;
   * `exec` must find it by name from a new process of the same ids. */
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, ring, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH | KEY_USR_LINK, 0, 0) < 0 &&
      errno != EACCES)
    die(errno, "session keyring", "set permissions of \"%s\"", r->argv[0]);
}
