/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-console backends (stdio, file, fd, socket, pty). */
#define _GNU_SOURCE 1 /* backends talk to the OS: termios, ptys, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "console_internal.h"

/*
 * The terminal of the STDIO backend is process state: its saved termios
 * and file status flags must be reachable from atexit() and from signal
 * handlers, which get no opaque pointer. This is the documented exception
 * to "no global state": one STDIO console per process at a time.
 */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
				    SIGBUS, SIGFPE,  SIGILL, SIGABRT};
#define N_FATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

static struct {
	int owner;			/* __atomic: a STDIO console exists */
	volatile sig_atomic_t armed;	/* restore at exit / on a signal */
	bool tty;			/* saved holds stdin's termios */
	struct termios saved;		/* stdin before raw mode */
	int fl_in, fl_out;		/* fds 0 and 1 before O_NONBLOCK */
	volatile sig_atomic_t winch_wr; /* SIGWINCH self-pipe, or -1 */
	bool handlers;			/* our handlers are installed */
	struct sigaction old[N_FATAL];
	struct sigaction old_winch;
	int atexit_done; /* __atomic */
} term = {.fl_in = -1, .fl_out = -1, .winch_wr = -1};

/* Async-signal-safe: tcsetattr, fcntl (POSIX.1-2008 2.4.3). */
static void term_restore_now(void)
{
	if (!term.armed)
		return;
	if (term.tty)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
	if (term.fl_in >= 0)
		(void)fcntl(STDIN_FILENO, F_SETFL, term.fl_in);
	if (term.fl_out >= 0)
		(void)fcntl(STDOUT_FILENO, F_SETFL, term.fl_out);
}

static void term_atexit(void)
{
	term_restore_now();
}

/* Restore the terminal, then die of @sig as if we had no handler. */
static void on_fatal(int sig)
{
	struct sigaction dfl;
	int saved_errno = errno;

	term_restore_now();
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(sig, &dfl, NULL);
	/* Blocked while we run: delivered (default action) on return. */
	(void)raise(sig);
	errno = saved_errno;
}

static void on_winch(int sig)
{
	int saved_errno = errno;
	int fd = term.winch_wr;

	(void)sig;
	if (fd >= 0)
		(void)!write(fd, "w", 1);
	errno = saved_errno;
}

static void set_handler(int sig, void (*fn)(int), struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	(void)sigaction(sig, &sa, old);
}

static void install_handlers(void)
{
	size_t i;

	for (i = 0; i < N_FATAL; i++) {
		(void)sigaction(fatal_signals[i], NULL, &term.old[i]);
		/* An ignored signal (nohup) stays ignored. */
		if (term.old[i].sa_handler != SIG_IGN)
			set_handler(fatal_signals[i], on_fatal, NULL);
	}
	set_handler(SIGWINCH, on_winch, &term.old_winch);
	term.handlers = true;
}

static void remove_handlers(void)
{
	size_t i;

	if (!term.handlers)
		return;
	for (i = 0; i < N_FATAL; i++)
		(void)sigaction(fatal_signals[i], &term.old[i], NULL);
	(void)sigaction(SIGWINCH, &term.old_winch, NULL);
	term.handlers = false;
}

/* File status flags */

/* Save the flags of both fds before changing either: stdin and stdout
 * often share one open file description. */
static int nonblock_pair(struct vmmio_console *con)
{
	int fl_in = -1, fl_out = -1;

	if (con->in.fd >= 0 && (fl_in = fcntl(con->in.fd, F_GETFL)) < 0)
		return -errno;
	if (con->out.fd >= 0 && (fl_out = fcntl(con->out.fd, F_GETFL)) < 0)
		return -errno;
	if (con->in.fd >= 0) {
		if (fcntl(con->in.fd, F_SETFL, fl_in | O_NONBLOCK) < 0)
			return -errno;
		con->fl_in = fl_in;
	}
	if (con->out.fd >= 0) {
		if (fcntl(con->out.fd, F_SETFL, fl_out | O_NONBLOCK) < 0)
			return -errno;
		con->fl_out = fl_out;
	}
	return 0;
}

static void restore_flags(struct vmmio_console *con)
{
	if (con->fl_out >= 0)
		(void)fcntl(con->out.fd, F_SETFL, con->fl_out);
	if (con->fl_in >= 0)
		(void)fcntl(con->in.fd, F_SETFL, con->fl_in);
	con->fl_in = con->fl_out = -1;
}

/* How to write to out.fd without SIGPIPE. */
static void classify_out(struct vmmio_console *con)
{
	struct stat st;

	if (con->out.fd < 0 || fstat(con->out.fd, &st))
		return;
	con->out_sock = S_ISSOCK(st.st_mode);
	con->out_fifo = S_ISFIFO(st.st_mode);
}

/* FD backend */

static int open_fd(struct vmmio_console *con,
		   const struct vmmio_console_config *cfg)
{
	con->in.fd = cfg->in_fd;
	con->out.fd = cfg->out_fd;
	classify_out(con);
	return nonblock_pair(con);
}

/* FILE backend */

static int open_in_path(const char *path)
{
	struct stat st;
	int flags = O_RDONLY;
	int fd;

	/* A FIFO is opened read-write so that it never reports EOF
	 * between writers (and open does not wait for one). */
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		flags = O_RDWR;
	fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int open_file(struct vmmio_console *con,
		     const struct vmmio_console_config *cfg)
{
	int fd;

	/* O_NONBLOCK: a FIFO without a reader fails (ENXIO), no wait. */
	fd = open(cfg->out_path,
		  O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC |
		      O_NOCTTY,
		  0600);
	if (fd < 0)
		return -errno;
	con->out.fd = fd;
	con->own_out = true;
	classify_out(con);
	if (!cfg->in_path)
		return 0;
	fd = open_in_path(cfg->in_path);
	if (fd < 0)
		return fd;
	con->in.fd = fd;
	con->own_in = true;
	return 0;
}

/* SOCKET backend */

/* Replace a stale socket file; refuse to touch anything else. */
static int clear_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static int bind_listen(struct vmmio_console *con, int fd)
{
	struct sockaddr_un sa;
	struct stat st;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, con->path, strlen(con->path) + 1);
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	/* Owner only, before listen(): nobody can connect in between. */
	if (chmod(con->path, 0600) || lstat(con->path, &st) || listen(fd, 1))
		goto out_unlink;
	con->path_dev = (uint64_t)st.st_dev;
	con->path_ino = (uint64_t)st.st_ino;
	return 0;

out_unlink:
	rc = -errno;
	(void)unlink(con->path);
	return rc;
}

static int open_socket(struct vmmio_console *con,
		       const struct vmmio_console_config *cfg)
{
	int fd, rc;

	memcpy(con->path, cfg->path, strlen(cfg->path) + 1);
	rc = clear_path(con->path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = bind_listen(con, fd);
	if (rc)
		goto out_close;
	con->listen_fd = fd;
	return 0;

out_close:
	close(fd);
	return rc;
}

/* Unlink the socket file only if it is still the one we made. */
static void unlink_ours(struct vmmio_console *con)
{
	struct stat st;

	if (lstat(con->path, &st) == 0 &&
	    (uint64_t)st.st_dev == con->path_dev &&
	    (uint64_t)st.st_ino == con->path_ino)
		(void)unlink(con->path);
}

/* The client hung up (or reset) while we were not reading it. */
static bool client_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void vmmio__con_drop_client(struct vmmio_console *con)
{
	int fd = con->in.fd;

	if (fd < 0)
		return;
	if (con->in.events)
		(void)epoll_ctl(con->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	con->in.fd = con->out.fd = -1;
	con->in.events = con->out.events = 0;
	con->tx_blocked = false;
}

void vmmio__con_check_client(struct vmmio_console *con)
{
	if (con->in.fd >= 0 && client_gone(con->in.fd))
		vmmio__con_drop_client(con);
}

static void take_client(struct vmmio_console *con, int fd)
{
	con->in.fd = con->out.fd = fd;
	con->in.events = con->out.events = 0;
	con->in_eof = con->out_dead = false;
	con->out_sock = true;
}

void vmmio__con_accept(struct vmmio_console *con)
{
	unsigned i;
	int fd;

	/* Bounded: the listen socket stays readable if more wait. */
	for (i = 0; i < 16; i++) {
		fd = accept4(con->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (con->in.fd >= 0 && client_gone(con->in.fd))
			vmmio__con_drop_client(con);
		if (con->in.fd < 0) {
			take_client(con, fd);
			continue;
		}
		/* One client at a time: refuse the others. */
		close(fd);
		vmmio__log(
		    con->host, con->host_opaque, &con->rl, VMMIO_LOG_INFO,
		    "virtio-console %s: second client refused", con->path);
	}
}

/* PTY backend */

static void make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		return;
	cfmakeraw(&t);
	(void)tcsetattr(fd, TCSANOW, &t);
}

static int pty_slave(struct vmmio_console *con)
{
	int fd;

	if (grantpt(con->in.fd) || unlockpt(con->in.fd))
		return -errno;
	if (ptsname_r(con->in.fd, con->pty_name, sizeof(con->pty_name)))
		return -errno;
	fd = open(con->pty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	con->pty_slave = fd;
	make_raw(fd);
	return 0;
}

static int open_pty(struct vmmio_console *con)
{
	struct winsize ws;
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	con->in.fd = con->out.fd = fd;
	con->own_in = true;
	rc = pty_slave(con);
	if (rc)
		return rc;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	/* A new pty is 0x0: tell its clients the size the guest sees. */
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = con->cols;
	ws.ws_row = con->rows;
	(void)ioctl(con->pty_slave, TIOCSWINSZ, &ws);
	return 0;
}

/* STDIO backend */

static bool claim_term(void)
{
	int free_slot = 0;

	return __atomic_compare_exchange_n(&term.owner, &free_slot, 1, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static int winch_pipe(struct vmmio_console *con)
{
	int p[2];

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	con->winch_fd = p[0];
	term.winch_wr = p[1];
	return 0;
}

/* stdin is a terminal: raw mode, restored at free, exit and signals. */
static int take_terminal(struct vmmio_console *con, bool on_signal)
{
	struct termios raw;
	int rc;

	if (tcgetattr(STDIN_FILENO, &term.saved))
		return 0; /* not a terminal: nothing to restore */
	term.tty = true;
	if (on_signal) {
		rc = winch_pipe(con);
		if (rc)
			return rc;
		/* Before raw mode: no window where a signal leaves it. */
		install_handlers();
	}
	raw = term.saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return -errno;
	return 0;
}

static int open_stdio(struct vmmio_console *con,
		      const struct vmmio_console_config *cfg)
{
	int rc;

	if (!claim_term())
		return -EBUSY;
	con->stdio_slot = true;
	/* Registered once per process; it does nothing while unarmed. */
	if (!__atomic_exchange_n(&term.atexit_done, 1, __ATOMIC_ACQ_REL) &&
	    atexit(term_atexit))
		return -ENOMEM;
	/* A closed stdin or stdout is simply no input or no output. */
	con->in.fd = fcntl(STDIN_FILENO, F_GETFD) < 0 ? -1 : STDIN_FILENO;
	con->out.fd = fcntl(STDOUT_FILENO, F_GETFD) < 0 ? -1 : STDOUT_FILENO;
	classify_out(con);
	rc = nonblock_pair(con);
	term.fl_in = con->fl_in;
	term.fl_out = con->fl_out;
	term.armed = 1;
	if (rc)
		return rc;
	return take_terminal(con, cfg->restore_on_signal);
}

static void close_stdio(struct vmmio_console *con)
{
	if (!con->stdio_slot)
		return;
	term_restore_now();
	remove_handlers();
	term.armed = 0;
	term.tty = false;
	term.fl_in = term.fl_out = -1;
	if (term.winch_wr >= 0)
		close(term.winch_wr);
	term.winch_wr = -1;
	con->fl_in = con->fl_out = -1; /* restored above */
	__atomic_store_n(&term.owner, 0, __ATOMIC_RELEASE);
	con->stdio_slot = false;
}

bool vmmio__con_term_size(const struct vmmio_console *con, uint16_t *cols,
			  uint16_t *rows)
{
	struct winsize ws;
	int fd =
	    con->backend == VMMIO_CONSOLE_PTY ? con->pty_slave : STDIN_FILENO;

	if (con->backend != VMMIO_CONSOLE_STDIO &&
	    con->backend != VMMIO_CONSOLE_PTY)
		return false;
	memset(&ws, 0, sizeof(ws));
	if (ioctl(fd, TIOCGWINSZ, &ws) &&
	    (con->backend == VMMIO_CONSOLE_PTY ||
	     ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)))
		return false;
	if (!ws.ws_col || !ws.ws_row)
		return false;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return true;
}

int vmmio__con_open(struct vmmio_console *con,
		    const struct vmmio_console_config *cfg)
{
	switch (cfg->backend) {
	case VMMIO_CONSOLE_STDIO:
		return open_stdio(con, cfg);
	case VMMIO_CONSOLE_FILE:
		return open_file(con, cfg);
	case VMMIO_CONSOLE_FD:
		return open_fd(con, cfg);
	case VMMIO_CONSOLE_SOCKET:
		return open_socket(con, cfg);
	default:
		return open_pty(con);
	}
}

void vmmio__con_close(struct vmmio_console *con)
{
	close_stdio(con);
	restore_flags(con);
	if (con->backend == VMMIO_CONSOLE_SOCKET) {
		vmmio__con_drop_client(con);
		if (con->listen_fd >= 0) {
			close(con->listen_fd);
			unlink_ours(con);
		}
		con->listen_fd = -1;
	}
	if (con->own_out && con->out.fd >= 0 && con->out.fd != con->in.fd)
		close(con->out.fd);
	if (con->own_in && con->in.fd >= 0)
		close(con->in.fd);
	if (con->pty_slave >= 0)
		close(con->pty_slave);
	con->in.fd = con->out.fd = con->pty_slave = -1;
	con->own_in = con->own_out = false;
}
