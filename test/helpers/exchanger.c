/* exchanger A B: swaps the two paths with renameat2(RENAME_EXCHANGE) as fast
 * as it can, until killed: the "swapped directory" attacker of the
 * hardening suite (a mount destination that changes between two lookups). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exchanger A B\n");
    return 2;
  }
  for (;;) syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* RENAME_EXCHANGE */);
}
