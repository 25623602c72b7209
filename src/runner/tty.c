/* process.terminal, runc's protocol.
 *
 * C2 (tty_setup, after pivot_root or the join of the container's mount
 * namespace): a pty from the container's own devpts instance (mounted
 * newinstance,ptmxmode=0666 by the plan), its window size, the slave handed
 * to the process's uid, bound onto /dev/console for the container's first
 * process, then the controlling terminal (C2 is a session leader) and fds
 * 0-2. The master goes to R over a socket pair; none of the caller's stdio
 * stays in C2, so no fd of the host's tty reaches the container.
 *
 * R (the caller's namespaces): connects the console socket before anything
 * else (its path is the caller's), and sends it the master with SCM_RIGHTS
 * and the name "/dev/ptmx" as the message, as runc does (conmon,
 * containerd-shim and buildah read it so). Without a socket (the foreground)
 * R keeps the master and relays it to its own stdio (tty_relay). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runner.h"

#define PTMX_MAJOR 5
#define PTMX_MINOR 2
#define PTY_SLAVE_MAJOR_FIRST 136 /* UNIX98_PTY_SLAVE_MAJOR … +7 */
#define PTY_SLAVE_MAJOR_LAST 143

/* Below ROOT, no symbolic link at all and no magic link: the rootfs cannot
 * point us at another devpts (or a host file) with a link. */
static int open_strict(int root, const char *path, int flags) {
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* `terminal` needs /dev/console: created as an empty file when missing (a
 * tmpfs /dev has none), then the slave is bound onto it, as runc does. */
static void bind_console(int root, int slave) {
  int dev = open_strict(root, "dev", O_PATH | O_DIRECTORY);
  if (dev < 0) die(errno, "terminal", "open /dev");
  int c = open_strict(dev, "console", O_PATH);
  if (c < 0 && errno == ENOENT) {
    int made = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (made < 0) die(errno, "terminal", "create /dev/console");
    close(made);
    c = open_strict(dev, "console", O_PATH);
  }
  if (c < 0) die(errno, "terminal", "open /dev/console");
  struct stat st;
  if (fstat(c, &st) < 0) die(errno, "terminal", "stat /dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) die(0, "terminal", "/dev/console is neither a file nor a device");
  int tree = (int)open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) die(errno, "terminal", "clone the pty for /dev/console");
  if (move_mount(tree, "", c, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die(errno, "terminal", "bind the pty onto /dev/console");
  close(tree);
  close(c);
  close(dev);
}

static void send_fd(int sock, int fd, const char *name, const char *step) {
  if (send_with_fd(sock, fd, name, strlen(name)) < 0) die(errno, step, "send the pty master");
}

void tty_setup(const struct plan *p, int to_runner) {
  const struct rec *t = plan_find(p, "terminal");
  if (!t) return;
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die(errno, "terminal", "open /");
  /* The instance's own ptmx, not /dev/ptmx (a link to it in the plan's /dev,
   * which a rootfs could make point anywhere). */
  int master = open_strict(root, "dev/pts/ptmx", O_RDWR | O_NOCTTY);
  if (master < 0) die(errno, "terminal", "open /dev/pts/ptmx (the container needs a devpts on /dev/pts)");
  struct stat mst, sst;
  struct statfs fs;
  if (fstat(master, &mst) < 0 || fstatfs(master, &fs) < 0) die(errno, "terminal", "stat /dev/pts/ptmx");
  if (!S_ISCHR(mst.st_mode) || mst.st_rdev != makedev(PTMX_MAJOR, PTMX_MINOR) || fs.f_type != DEVPTS_SUPER_MAGIC)
    die(0, "terminal", "/dev/pts/ptmx is not the ptmx of a devpts");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die(errno, "terminal", "unlock the pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die(errno, "terminal", "open the pty's slave (TIOCGPTPEER)");
  /* The peer of that master lives in the same devpts instance. */
  if (fstat(slave, &sst) < 0) die(errno, "terminal", "stat the pty's slave");
  if (!S_ISCHR(sst.st_mode) || major(sst.st_rdev) < PTY_SLAVE_MAJOR_FIRST || major(sst.st_rdev) > PTY_SLAVE_MAJOR_LAST ||
      sst.st_dev != mst.st_dev)
    die(0, "terminal", "the pty's slave is not in the container's devpts");
  unsigned short rows = (unsigned short)num(t->argv[0]), cols = (unsigned short)num(t->argv[1]);
  if (rows && cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) die(errno, "process.consoleSize", "TIOCSWINSZ");
  }
  /* The process's uid owns its terminal (runc: the same). The group stays
   * the one devpts gave (its gid= option, the tty group) if it gave one,
   * and is the process's otherwise. */
  const struct rec *u = plan_find(p, "user");
  if (u) {
    uid_t uid = (uid_t)num(u->argv[0]);
    gid_t gid = sst.st_gid != getegid() ? (gid_t)-1 : (gid_t)num(u->argv[1]);
    if (fchown(slave, uid, gid) < 0) die(errno, "terminal", "chown the pty to %s:%s", u->argv[0], u->argv[1]);
  }
  if (!strcmp(t->argv[2], "1")) bind_console(root, slave);
  close(root);

  send_fd(to_runner, master, "/dev/ptmx", "terminal");
  close(master);
  close(to_runner);

  if (ioctl(slave, TIOCSCTTY, 0) < 0) die(errno, "terminal", "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) die(errno, "terminal", "pty as fd %d", fd);
  if (slave > 2) close(slave);
}

/* ---- R ------------------------------------------------------------------- */

int tty_connect(const char *path) {
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path) die(ENAMETOOLONG, "console-socket", "%s", path);
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die(errno, "console-socket", "socket");
  int r;
  while ((r = connect(s, (struct sockaddr *)&sa, sizeof sa)) < 0 && errno == EINTR) {}
  if (r < 0) die(errno, "console-socket", "connect %s", path);
  return s;
}

int tty_receive(int from_c2) {
  char name[64];
  struct iovec iov = { name, sizeof name };
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf };
  ssize_t n;
  while ((n = recvmsg(from_c2, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (n < 0) die(errno, "terminal", "receive the pty master");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  if (n == 0 || !cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
    die(0, "terminal", "the container process sent no pty master");
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

static void copy_winsize(int master);

/* The foreground: the pty gets the size of our terminal before the process
 * may run (an exec'd one starts right after our report). */
void tty_size_from_stdin(int master) {
  if (isatty(0)) copy_winsize(master);
}

void tty_send(int sock, int master) {
  send_fd(sock, master, "/dev/ptmx", "console-socket");
}

/* ---- the foreground relay ------------------------------------------------ */

static int wake[2] = { -1, -1 };
static volatile sig_atomic_t got_winch, got_chld;
static pid_t relayed;

static void on_signal(int sig) {
  int e = errno;
  if (sig == SIGWINCH) got_winch = 1;
  else if (sig == SIGCHLD) got_chld = 1;
  else if (relayed > 0) kill(relayed, sig);
  if (write(wake[1], "", 1) < 0) {} /* full: a wake-up is already pending */
  errno = e;
}

static void copy_winsize(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ioctl(master, TIOCSWINSZ, &ws);
}

/* One direction of the relay: bytes read from FROM, not yet written to TO. */
struct pipe_buf {
  char data[16384];
  size_t off, len;
  int open; /* FROM may still give data */
};

/* Reads into an empty buffer; 0 at EOF or an error (EIO: no slave left). */
static void fill(struct pipe_buf *b, int from) {
  ssize_t n = read(from, b->data, sizeof b->data);
  if (n > 0) {
    b->off = 0;
    b->len = (size_t)n;
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) b->open = 0;
}

/* Writes what the buffer holds, as much as TO takes now; the rest waits for
 * POLLOUT. A failed write drops the buffer and closes the direction. */
static void drain(struct pipe_buf *b, int to) {
  ssize_t w = write(to, b->data + b->off, b->len);
  if (w > 0) {
    b->off += (size_t)w;
    b->len -= (size_t)w;
  } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
    b->len = 0;
    b->open = 0;
  }
}

/* Relays R's stdin to the master and the master to R's stdout until CHILD
 * (C2, re-parented to R, the subreaper) exits; R's own stdin, when a
 * terminal, is raw meanwhile (restored before returning), so ^C reaches the
 * container's line discipline, which signals its foreground process group.
 * Each direction has its own buffer and waits for POLLOUT on its own, so a
 * container that never reads its input still has its output relayed and its
 * exit noticed (one blocking copy would deadlock with a process blocked on
 * output while input waits); the master is non-blocking, our stdio is left as
 * it is (its file description is shared with the caller).
 * Signals sent to R itself (INT, TERM, HUP, QUIT) are forwarded to CHILD,
 * window-size changes copied to the pty. Returns CHILD's status like a shell. */
int tty_relay(int master, pid_t child) {
  relayed = child;
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) die(errno, "terminal", "pipe");
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset(&sa.sa_mask);
  int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGCHLD };
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);

  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
  }
  if (isatty(0)) copy_winsize(master);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

  static struct pipe_buf in = { .open = 1 }, out = { .open = 1 };
  int status = -1;
  got_chld = 1; /* the child may be gone already */
  while (status < 0) {
    if (got_winch) {
      got_winch = 0;
      copy_winsize(master);
    }
    if (got_chld) {
      got_chld = 0;
      int st;
      pid_t w;
      while ((w = waitpid(-1, &st, WNOHANG)) > 0)
        if (w == child) status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (status >= 0) break;
    }
    short master_events = (short)((out.open && !out.len ? POLLIN : 0) | (in.len ? POLLOUT : 0));
    struct pollfd fds[4] = {
      { wake[0], POLLIN, 0 },
      { in.open && !in.len ? 0 : -1, POLLIN, 0 },
      { master_events ? master : -1, master_events, 0 },
      { out.len ? 1 : -1, POLLOUT, 0 },
    };
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char sink[64];
    if (fds[0].revents)
      while (read(wake[0], sink, sizeof sink) > 0) {}
    if (fds[1].revents) fill(&in, 0);
    if (fds[2].revents & POLLOUT) drain(&in, master);
    else if (fds[2].revents & (POLLERR | POLLHUP) && in.len) drain(&in, master); /* EIO: drops it */
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR) && out.open && !out.len) fill(&out, master);
    if (fds[3].revents) drain(&out, 1);
  }
  /* What the process wrote before it exited (the master is non-blocking). */
  for (;;) {
    while (out.len) {
      drain(&out, 1);
      if (out.len) poll(&(struct pollfd){ 1, POLLOUT, 0 }, 1, 100);
    }
    if (!out.open) break;
    fill(&out, master);
    if (!out.len) break;
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  return status < 0 ? 255 : status;
}
