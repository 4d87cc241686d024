/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-console device model (virtio 1.2 §5.3), one port. */
#define _GNU_SOURCE 1 /* the device talks to the OS: epoll, eventfd, readv */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "console_internal.h"

#define BIT(b) (1ull << (b))
#define CON_FEATURES                                                           \
	(BIT(VIRTIO_CONSOLE_F_SIZE) | BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) |      \
	 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX))
#define EMERG_OFF offsetof(struct virtio_console_config, emerg_wr)

/* struct vmmio_seg is laid out as struct iovec (see <vmmio/mem.h>). */
_Static_assert(sizeof(struct vmmio_seg) == sizeof(struct iovec) &&
		   offsetof(struct vmmio_seg, base) ==
		       offsetof(struct iovec, iov_base) &&
		   offsetof(struct vmmio_seg, len) ==
		       offsetof(struct iovec, iov_len),
	       "vmmio_seg must match struct iovec");

static struct iovec *as_iov(struct vmmio_seg *s)
{
	return (struct iovec *)(void *)s;
}

static bool faulted(const struct vmmio_console *con)
{
	return vmmio_dev_fault(con->dev) != VMMIO_FAULT_NONE;
}

/* Work is left after a bounded run: keep the epoll set readable. */
static void wake(struct vmmio_console *con)
{
	uint64_t one = 1;

	(void)!write(con->wake_fd, &one, sizeof(one));
}

/* Event loop: which backend events the device wants now */

static uint32_t in_wanted(const struct vmmio_console *con, bool active)
{
	if (con->in.fd < 0 || con->in.nopoll || con->in_eof || !active)
		return 0;
	/* No receive buffer posted: leave the bytes in the pipe, socket
	 * or pty (backpressure) until the guest kicks the receiveq. */
	return con->rx.busy || !con->rx_idle ? EPOLLIN : 0;
}

static uint32_t out_wanted(const struct vmmio_console *con, bool active)
{
	if (con->out.fd < 0 || con->out.nopoll || con->out_dead || !active)
		return 0;
	return con->tx_blocked ? EPOLLOUT : 0;
}

static void watch_set(struct vmmio_console *con, struct con_watch *w,
		      uint32_t want)
{
	struct epoll_event ev = {.events = want, .data.fd = w->fd};
	int op;

	if (w->fd < 0 || want == w->events)
		return;
	/* DEL rather than MOD to 0: EPOLLHUP/EPOLLERR are always
	 * reported, and a hung-up pipe we do not read would spin. */
	op = !w->events ? EPOLL_CTL_ADD : want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
	if (epoll_ctl(con->epfd, op, w->fd, &ev) == 0) {
		w->events = want;
		return;
	}
	vmmio__log(con->host, con->host_opaque, &con->rl, VMMIO_LOG_ERROR,
		   "virtio-console: epoll_ctl(fd %d): %s", w->fd,
		   strerror(errno));
}

void vmmio__con_watch(struct vmmio_console *con)
{
	bool active = vmmio_dev_is_active(con->dev);
	uint32_t in = in_wanted(con, active);
	uint32_t out = out_wanted(con, active);

	/* A socket client that hangs up while we do not read it. */
	if (con->backend == VMMIO_CONSOLE_SOCKET && con->in.fd >= 0)
		in |= EPOLLRDHUP;
	if (con->in.fd >= 0 && con->in.fd == con->out.fd) {
		watch_set(con, &con->in, in | out);
		return;
	}
	watch_set(con, &con->in, in);
	watch_set(con, &con->out, out);
}

/* A regular file (or /dev/null) cannot be polled: it is always ready. */
static void probe_pollable(struct vmmio_console *con, struct con_watch *w)
{
	struct epoll_event ev = {.events = 0};

	if (w->fd < 0)
		return;
	if (epoll_ctl(con->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0)
		(void)epoll_ctl(con->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	else if (errno == EPERM)
		w->nopoll = true;
}

static int watch_always(struct vmmio_console *con, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	if (fd >= 0 && epoll_ctl(con->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

/* Output */

/* Write without SIGPIPE: the embedder's disposition is not ours. */
static ssize_t writev_nosigpipe(int fd, struct iovec *v, int n)
{
	struct timespec zero = {0, 0};
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t w;
	int err;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	was_pending =
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	w = writev(fd, v, n);
	err = errno;
	/* Consume the SIGPIPE this write raised, and only that one. */
	if (w < 0 && err == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return w;
}

static ssize_t out_write(struct vmmio_console *con, struct vmmio_seg *seg,
			 unsigned n)
{
	struct msghdr mh = {.msg_iov = as_iov(seg), .msg_iovlen = n};

	if (con->out_sock)
		return sendmsg(con->out.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (con->out_fifo)
		return writev_nosigpipe(con->out.fd, as_iov(seg), (int)n);
	return writev(con->out.fd, as_iov(seg), (int)n);
}

static bool out_ready(const struct vmmio_console *con)
{
	return con->out.fd >= 0 && !con->out_dead;
}

/* The output failed for good: drop the socket client, else stop. */
static void out_failed(struct vmmio_console *con, int err)
{
	if (con->backend == VMMIO_CONSOLE_SOCKET) {
		vmmio__con_drop_client(con);
		return;
	}
	con->out_dead = true;
	con->tx_blocked = false;
	vmmio__log(con->host, con->host_opaque, &con->rl, VMMIO_LOG_WARN,
		   "virtio-console: output stopped: %s",
		   err ? strerror(err) : "wrote nothing");
}

/* Nobody to write to: complete the chain, count its bytes as dropped. */
static void tx_discard(struct vmmio_console *con)
{
	con->st.tx_dropped += con->tx.c.readable_len - con->tx.off;
	con->tx.off = con->tx.c.readable_len;
}

/* Write the rest of the held chain: true once all of it is out (or
 * discarded), false on EAGAIN with the offset kept. */
static bool tx_write(struct vmmio_console *con)
{
	struct con_chain *t = &con->tx;
	unsigned n;
	ssize_t w;

	while (t->off < t->c.readable_len) {
		if (!out_ready(con) ||
		    vmmio_chain_iov(&t->c, false, t->off,
				    t->c.readable_len - t->off, con->iov,
				    CON_SEGS, &n)) {
			tx_discard(con);
			break;
		}
		w = out_write(con, con->iov, n);
		if (w > 0) {
			t->off += (uint32_t)w;
			con->st.tx_bytes += (uint64_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return false;
		} else if (!(w < 0 && errno == EINTR)) {
			out_failed(con, w < 0 ? errno : 0);
		}
	}
	return true;
}

/* virtio 1.2 §5.3.6.1 says the driver MUST NOT put a device-writable
 * buffer in a transmitq, but asks nothing of the device: the console is
 * the channel of last resort, so the wrong part is ignored (used length
 * 0), not latched as a fault. */
static int tx_pop(struct vmmio_console *con, struct vmmio_vq *q)
{
	int rc = vmmio_vq_pop(q, &con->tx.c);

	if (rc == 0 && vmmio_vq_enable_notify(q) == 1)
		rc = vmmio_vq_pop(q, &con->tx.c);
	if (rc != 1)
		return rc;
	con->tx.busy = true;
	con->tx.off = 0;
	if (con->tx.c.writable_len)
		vmmio__log(con->host, con->host_opaque, &con->rl,
			   VMMIO_LOG_DEBUG,
			   "virtio-console: transmit chain %u has %u "
			   "device-writable bytes (virtio 1.2 §5.3.6.1): "
			   "ignored",
			   con->tx.c.head, con->tx.c.writable_len);
	return 1;
}

/* Guest output, in order; at most one chain held (checklist row 17). */
static int tx_run(struct vmmio_console *con)
{
	struct vmmio_vq *q = vmmio_dev_queue(con->dev, CON_TXQ);
	unsigned done;
	int rc = 0;

	if (!vmmio_vq_is_valid(q))
		return faulted(con) ? -EIO : 0;
	con->tx_blocked = false;
	for (done = 0;; done++) {
		if (done == vmmio_vq_size(q)) {
			wake(con); /* bounded work per call (row 14) */
			break;
		}
		if (!con->tx.busy && (rc = tx_pop(con, q)) != 1)
			break;
		if (!tx_write(con)) {
			/* Backpressure: keep the chain, wait for POLLOUT. */
			con->tx_blocked = true;
			vmmio_vq_disable_notify(q);
			break;
		}
		con->tx.busy = false;
		rc = vmmio_vq_add_used(q, con->tx.c.head, 0);
		if (rc)
			break;
	}
	if (done && vmmio_vq_publish(q) < 0)
		rc = -EIO;
	return rc < 0 && faulted(con) ? -EIO : 0;
}

/* Input */

static bool in_ready(const struct vmmio_console *con)
{
	return con->in.fd >= 0 && !con->in_eof;
}

/* EOF or a read error: stop reading (a socket client is dropped and
 * the next one accepted). */
static void in_stopped(struct vmmio_console *con, int err)
{
	if (con->backend == VMMIO_CONSOLE_SOCKET) {
		vmmio__con_drop_client(con);
		return;
	}
	con->in_eof = true;
	if (err)
		vmmio__log(con->host, con->host_opaque, &con->rl,
			   VMMIO_LOG_WARN, "virtio-console: input stopped: %s",
			   strerror(err));
}

/* Read into the held chain's writable part: bytes read, 0 nothing yet
 * (EAGAIN), -1 input stopped. */
static ssize_t rx_read(struct vmmio_console *con)
{
	struct con_chain *r = &con->rx;
	unsigned n;
	ssize_t got;

	if (vmmio_chain_iov(&r->c, true, 0, r->c.writable_len, con->iov,
			    CON_SEGS, &n))
		return -1; /* cannot happen: the chain fits CON_SEGS */
	do
		got = readv(con->in.fd, as_iov(con->iov), (int)n);
	while (got < 0 && errno == EINTR);
	if (got > 0)
		return got;
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	in_stopped(con, got < 0 ? errno : 0);
	return -1;
}

/* virtio 1.2 §5.3.6.1: the driver MUST NOT put a device-readable buffer
 * in a receiveq; as for the transmitq, the device ignores the wrong part.
 * A chain with no writable part at all is completed with 0 bytes. */
static int rx_pop(struct vmmio_console *con, struct vmmio_vq *q)
{
	int rc = vmmio_vq_pop(q, &con->rx.c);

	if (rc == 0 && vmmio_vq_enable_notify(q) == 1)
		rc = vmmio_vq_pop(q, &con->rx.c);
	if (rc == 0)
		con->rx_idle = true;
	if (rc != 1)
		return rc;
	con->rx.busy = true;
	if (con->rx.c.readable_len || !con->rx.c.writable_len)
		vmmio__log(con->host, con->host_opaque, &con->rl,
			   VMMIO_LOG_DEBUG,
			   "virtio-console: receive chain %u has %u "
			   "device-readable and %u writable bytes (virtio "
			   "1.2 §5.3.6.1): readable part ignored",
			   con->rx.c.head, con->rx.c.readable_len,
			   con->rx.c.writable_len);
	return 1;
}

/* Host input, only into buffers the guest posted, in order. */
static int rx_run(struct vmmio_console *con)
{
	struct vmmio_vq *q = vmmio_dev_queue(con->dev, CON_RXQ);
	unsigned done;
	ssize_t got = 0;
	int rc = 0;

	if (!vmmio_vq_is_valid(q))
		return faulted(con) ? -EIO : 0;
	for (done = 0; in_ready(con); done++) {
		if (done == vmmio_vq_size(q)) {
			wake(con);
			break;
		}
		if (!con->rx.busy && (rc = rx_pop(con, q)) != 1)
			break;
		if (con->rx.c.writable_len) {
			got = rx_read(con);
			if (got == 0)
				vmmio_vq_disable_notify(q); /* wait: EPOLLIN */
			if (got <= 0)
				break;
		}
		con->rx.busy = false;
		rc = vmmio_vq_add_used(q, con->rx.c.head, (uint32_t)got);
		if (rc)
			break;
		con->st.rx_bytes += (uint64_t)got;
		got = 0;
	}
	if (done && vmmio_vq_publish(q) < 0)
		rc = -EIO;
	return rc < 0 && faulted(con) ? -EIO : 0;
}

static int run_queues(struct vmmio_console *con)
{
	int tx = tx_run(con);
	int rx = rx_run(con);

	return tx ? tx : rx;
}

/* Device model ops */

static void con_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	const struct vmmio_console *con = opaque;
	struct virtio_console_config c;

	/* Little-endian host (src/internal.h); emerg_wr reads as 0. */
	memset(&c, 0, sizeof(c));
	c.cols = con->cols;
	c.rows = con->rows;
	c.max_nr_ports = 1;
	/* The transport bounds [off, off + len) by the config size. */
	memcpy(buf, (const unsigned char *)&c + off, len);
}

/* One character out now, whatever is queued (virtio 1.2 §5.3.4: usable
 * at any time, even before the queues are set up or after a fault). */
static void emerg_put(struct vmmio_console *con, unsigned char ch)
{
	struct vmmio_seg one = {.base = &ch, .len = 1};
	ssize_t w = -1;

	if (out_ready(con)) {
		do
			w = out_write(con, &one, 1);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			out_failed(con, errno);
	}
	if (w == 1)
		con->st.tx_bytes++;
	else
		con->st.tx_dropped++;
}

static void con_config_write(void *opaque, uint32_t off, const void *buf,
			     uint32_t len)
{
	struct vmmio_console *con = opaque;

	/* Only emerg_wr is writable; its low byte is the character. */
	if ((con->offered & BIT(VIRTIO_CONSOLE_F_EMERG_WRITE)) &&
	    off <= EMERG_OFF && EMERG_OFF - off < len) {
		emerg_put(con, ((const unsigned char *)buf)[EMERG_OFF - off]);
		return;
	}
	vmmio__log(con->host, con->host_opaque, &con->rl, VMMIO_LOG_DEBUG,
		   "virtio-console: config write of %u bytes at %u ignored",
		   len, off);
}

static void drop_chains(struct vmmio_console *con)
{
	con->tx.busy = con->rx.busy = false;
	con->tx.off = 0;
	con->tx_blocked = false;
}

static int con_activate(void *opaque, uint64_t features)
{
	struct vmmio_console *con = opaque;

	(void)features;
	drop_chains(con);
	/* The driver may have posted buffers before DRIVER_OK. */
	con->rx_idle = false;
	(void)run_queues(con);
	vmmio__con_watch(con);
	return 0;
}

/* The transport resets the queues right after: forget our chains. */
static void con_reset(void *opaque)
{
	struct vmmio_console *con = opaque;

	drop_chains(con);
	con->rx_idle = true;
	vmmio__con_watch(con);
}

static void con_queue_notify(void *opaque, uint16_t queue)
{
	struct vmmio_console *con = opaque;

	if (queue == CON_RXQ) {
		con->rx_idle = false;
		(void)rx_run(con);
	} else {
		(void)tx_run(con);
	}
	vmmio__con_watch(con);
}

static const struct vmmio_dev_ops con_ops = {
    .size = sizeof(struct vmmio_dev_ops),
    .device_id = VIRTIO_ID_CONSOLE,
    .config_read = con_config_read,
    .config_write = con_config_write,
    .activate = con_activate,
    .reset = con_reset,
    .queue_notify = con_queue_notify,
};

/* Creation */

static int bad_param(const struct vmmio_console_config *cfg, const char *what)
{
	vmmio__log(cfg ? cfg->host : NULL, cfg ? cfg->host_opaque : NULL, NULL,
		   VMMIO_LOG_ERROR, "vmmio_console_new: invalid %s", what);
	return -EINVAL;
}

static int check_backend(const struct vmmio_console_config *cfg)
{
	switch (cfg->backend) {
	case VMMIO_CONSOLE_FILE:
		if (!cfg->out_path || !*cfg->out_path)
			return bad_param(cfg, "out_path");
		if (cfg->in_path && !*cfg->in_path)
			return bad_param(cfg, "in_path");
		return 0;
	case VMMIO_CONSOLE_FD:
		if (cfg->in_fd < -1 || cfg->out_fd < -1)
			return bad_param(cfg, "in_fd/out_fd");
		return 0;
	case VMMIO_CONSOLE_SOCKET:
		if (!cfg->path || !*cfg->path ||
		    strlen(cfg->path) >= CON_PATH_MAX)
			return bad_param(cfg, "path");
		return 0;
	default:
		return 0;
	}
}

static int check_config(const struct vmmio_console_config *cfg,
			struct vmmio_console **out)
{
	/* Nothing of a short or missing config is read, not even host. */
	if (!cfg || cfg->size < sizeof(*cfg))
		return bad_param(NULL, "cfg");
	if (!out)
		return bad_param(cfg, "out");
	if ((unsigned)cfg->backend >= VMMIO_CONSOLE_BACKEND__COUNT)
		return bad_param(cfg, "backend");
	if (cfg->queue_size && (!vmmio__is_pow2(cfg->queue_size) ||
				cfg->queue_size > CON_QSIZE_MAX))
		return bad_param(cfg, "queue_size");
	return check_backend(cfg);
}

static void init_state(struct vmmio_console *con,
		       const struct vmmio_console_config *cfg)
{
	con->host = cfg->host;
	con->host_opaque = cfg->host_opaque;
	con->backend = cfg->backend;
	con->qsize = cfg->queue_size ? cfg->queue_size : CON_QSIZE_DEFAULT;
	con->cols = cfg->cols ? cfg->cols : CON_COLS_DEFAULT;
	con->rows = cfg->rows ? cfg->rows : CON_ROWS_DEFAULT;
	con->offered = CON_FEATURES & ~cfg->features_off;
	con->in.fd = con->out.fd = con->listen_fd = con->pty_slave = -1;
	con->fl_in = con->fl_out = -1;
	con->epfd = con->wake_fd = con->winch_fd = -1;
	con->rx_idle = true;
	con->tx.c.seg = con->tx_seg;
	con->tx.c.seg_cap = CON_SEGS;
	con->rx.c.seg = con->rx_seg;
	con->rx.c.seg_cap = CON_SEGS;
}

static int make_dev(struct vmmio_console *con,
		    const struct vmmio_console_config *cfg)
{
	const uint16_t sizes[CON_NUM_QUEUES] = {con->qsize, con->qsize};
	struct vmmio_dev_config dc = {
	    .size = sizeof(dc),
	    .version = cfg->version,
	    .num_queues = CON_NUM_QUEUES,
	    .queue_sizes = sizes,
	    .features = con->offered,
	    .config_size = sizeof(struct virtio_console_config),
	    .mem = cfg->mem,
	    .host = cfg->host,
	    .host_opaque = cfg->host_opaque,
	};

	return vmmio_dev_new(&con_ops, con, &dc, &con->dev);
}

static int make_loop(struct vmmio_console *con)
{
	con->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (con->epfd < 0)
		return -errno;
	con->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (con->wake_fd < 0)
		return -errno;
	return watch_always(con, con->wake_fd);
}

static void close_loop(struct vmmio_console *con)
{
	if (con->winch_fd >= 0)
		close(con->winch_fd);
	if (con->wake_fd >= 0)
		close(con->wake_fd);
	if (con->epfd >= 0)
		close(con->epfd);
	con->epfd = con->wake_fd = con->winch_fd = -1;
}

/* After the backend is open: what to poll, and the terminal's size. */
static int watch_backend(struct vmmio_console *con,
			 const struct vmmio_console_config *cfg)
{
	uint16_t cols, rows;
	int rc;

	probe_pollable(con, &con->in);
	probe_pollable(con, &con->out);
	rc = watch_always(con, con->listen_fd);
	if (!rc)
		rc = watch_always(con, con->winch_fd);
	if (rc)
		return rc;
	if ((!cfg->cols || !cfg->rows) &&
	    vmmio__con_term_size(con, &cols, &rows)) {
		con->cols = cfg->cols ? cfg->cols : cols;
		con->rows = cfg->rows ? cfg->rows : rows;
	}
	return 0;
}

int vmmio_console_new(const struct vmmio_console_config *cfg,
		      struct vmmio_console **out)
{
	struct vmmio_console *con;
	int rc = check_config(cfg, out);

	if (rc)
		return rc;
	con = vmmio__zalloc(cfg->host, cfg->host_opaque, sizeof(*con));
	if (!con)
		return -ENOMEM;
	init_state(con, cfg);
	rc = make_dev(con, cfg);
	if (rc)
		goto out_free_con;
	rc = make_loop(con);
	if (!rc)
		rc = vmmio__con_open(con, cfg);
	if (!rc)
		rc = watch_backend(con, cfg);
	if (rc)
		goto out_close;
	*out = con;
	return 0;

out_close:
	/* Backend first: it closes the SIGWINCH pipe's write end. */
	vmmio__con_close(con);
	close_loop(con);
	vmmio_dev_free(con->dev);
out_free_con:
	vmmio__free(cfg->host, cfg->host_opaque, con);
	return rc;
}

void vmmio_console_free(struct vmmio_console *con)
{
	if (!con)
		return;
	vmmio__con_close(con);
	close_loop(con);
	vmmio_dev_free(con->dev);
	vmmio__free(con->host, con->host_opaque, con);
}

/* Event loop and accessors */

static void drain(int fd)
{
	unsigned char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void apply_winch(struct vmmio_console *con)
{
	uint16_t cols, rows;

	drain(con->winch_fd);
	if (vmmio__con_term_size(con, &cols, &rows))
		vmmio_console_resize(con, cols, rows);
}

int vmmio_console_process(struct vmmio_console *con)
{
	int rc = 0;

	drain(con->wake_fd);
	if (con->winch_fd >= 0)
		apply_winch(con);
	if (con->listen_fd >= 0)
		vmmio__con_accept(con);
	if (vmmio_dev_is_active(con->dev))
		rc = run_queues(con);
	/* A client that hung up while no receive buffer was posted. */
	if (con->backend == VMMIO_CONSOLE_SOCKET && con->in.fd >= 0 &&
	    !con->rx.busy && con->rx_idle)
		vmmio__con_check_client(con);
	vmmio__con_watch(con);
	return rc || faulted(con) ? -EIO : 0;
}

struct vmmio_dev *vmmio_console_dev(struct vmmio_console *con)
{
	return con->dev;
}

int vmmio_console_fd(const struct vmmio_console *con)
{
	return con->epfd;
}

void vmmio_console_resize(struct vmmio_console *con, uint16_t cols,
			  uint16_t rows)
{
	if (cols == con->cols && rows == con->rows)
		return;
	con->cols = cols;
	con->rows = rows;
	/* virtio 1.2 §5.3.4: a size change comes with a config change
	 * notification when VIRTIO_CONSOLE_F_SIZE was negotiated. */
	if ((vmmio_dev_features(con->dev) & BIT(VIRTIO_CONSOLE_F_SIZE)) &&
	    vmmio_dev_is_active(con->dev))
		vmmio_dev_config_changed(con->dev);
}

const char *vmmio_console_pty_name(const struct vmmio_console *con)
{
	return con->backend == VMMIO_CONSOLE_PTY ? con->pty_name : NULL;
}

void vmmio_console_stats(const struct vmmio_console *con,
			 struct vmmio_console_stats *st)
{
	*st = con->st;
}
