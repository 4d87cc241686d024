/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-console device model driven through the driver harness (dfix.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <check.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/console.h>
#include <vmmio/queue.h>

#include "dfix.h"
#include "failer.h"
#include "tests.h"

#define BIT(b) (1ull << (b))
#define F_SIZE BIT(VIRTIO_CONSOLE_F_SIZE)
#define F_EMERG BIT(VIRTIO_CONSOLE_F_EMERG_WRITE)
#define F_ALL                                                                  \
	(F_SIZE | F_EMERG | BIT(VIRTIO_RING_F_INDIRECT_DESC) |                 \
	 BIT(VIRTIO_RING_F_EVENT_IDX))
#define QS 64u
#define RXQ 0u
#define TXQ 1u
#define RXBUF 128u
#define TX_ARENA 0x10000u
#define EMERG_OFF 8u

/* ---- rig: fixture + console ---- */

struct rig {
	struct dfix f; /* first: host_opaque points at it */
	struct vmmio_console *con;
	struct vmmio_host_ops host;
	int in_r, in_w;	  /* host input pipe: device reads in_r */
	int out_r, out_w; /* guest output pipe: device writes out_w */
	vmmio_gpa_t tx_arena, rx_arena;
	unsigned tx_tok;
	unsigned rx_tok[QS];
	uint32_t rx_len[QS];
	bool rx_posted[QS];
	unsigned seed;
};

static int con_process(void *obj)
{
	return vmmio_console_process(obj);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct rig *rig_new(bool split)
{
	struct rig *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	df_mem(&r->f, split, 4711);
	r->host = df_host;
	r->in_r = r->in_w = r->out_r = r->out_w = -1;
	r->tx_arena = tg_alloc(&r->f.g, TX_ARENA, 16);
	r->rx_arena = tg_alloc(&r->f.g, QS * RXBUF, 16);
	r->seed = 99;
	return r;
}

static struct vmmio_console_config rig_cfg(struct rig *r,
					   enum vmmio_console_backend b)
{
	struct vmmio_console_config c = {
	    .size = sizeof(c),
	    .backend = b,
	    .in_fd = -1,
	    .out_fd = -1,
	    .queue_size = QS,
	    .mem = r->f.g.mem,
	    .host = &r->host,
	    .host_opaque = &r->f,
	};

	return c;
}

static void set_nonblock(int fd)
{
	ck_assert_int_ge(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
			 0);
}

static void rig_pipes(struct rig *r)
{
	int a[2], b[2];

	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	r->in_r = a[0];
	r->in_w = a[1];
	r->out_r = b[0];
	r->out_w = b[1];
	set_nonblock(r->out_r);
	set_nonblock(r->in_w);
}

static void rig_create(struct rig *r, const struct vmmio_console_config *c)
{
	ck_assert_int_eq(vmmio_console_new(c, &r->con), 0);
	df_loop(&r->f, vmmio_console_fd(r->con), con_process, r->con);
}

static struct vmmio_dev *rig_dev(struct rig *r)
{
	return vmmio_console_dev(r->con);
}

static void rig_start(struct rig *r, uint64_t wanted)
{
	df_start(&r->f, rig_dev(r), wanted, 2, QS);
}

/* FD backend on two pipes, started with every feature. */
static struct rig *rig_fd(bool split)
{
	struct rig *r = rig_new(split);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FD);

	rig_pipes(r);
	c.in_fd = r->in_r;
	c.out_fd = r->out_w;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	return r;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void rig_free(struct rig *r)
{
	vmmio_console_free(r->con);
	df_free(&r->f);
	close_fd(&r->in_r);
	close_fd(&r->in_w);
	close_fd(&r->out_r);
	close_fd(&r->out_w);
	free(r);
}

static struct vmmio_console_stats rig_stats(struct rig *r)
{
	struct vmmio_console_stats st;

	vmmio_console_stats(r->con, &st);
	return st;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* ---- the guest's side ---- */

/* Guest output: one chain of @nbuf readable buffers holding @data, in
 * @layout; waits for the device to complete it (used length 0). */
static void guest_tx(struct rig *r, const void *data, uint32_t len,
		     unsigned nbuf, enum df_layout layout)
{
	struct vmmio_drv_buf b[8];
	uint32_t off = 0;
	void *tok;
	uint32_t used;

	ck_assert_uint_le(len, TX_ARENA);
	ck_assert(nbuf >= 1 && nbuf <= 8 && nbuf <= len);
	tg_write(&r->f.g, r->tx_arena, data, len);
	for (unsigned i = 0; i < nbuf; i++) {
		uint32_t n = i == nbuf - 1 ? len - off : len / nbuf;

		b[i].gpa = r->tx_arena + off;
		b[i].len = n;
		off += n;
	}
	ck_assert_int_eq(df_submit(&r->f, TXQ, b, nbuf, 0, layout, &r->tx_tok),
			 0);
	ck_assert_int_eq(df_wait(&r->f, TXQ, &tok, &used), 1);
	ck_assert_ptr_eq(tok, &r->tx_tok);
	ck_assert_uint_eq(used, 0);
}

/* Post receive buffer @slot of @len bytes (two buffers if @split2). */
static void post_rx(struct rig *r, unsigned slot, uint32_t len, bool split2,
		    enum df_layout layout)
{
	vmmio_gpa_t gpa = r->rx_arena + (vmmio_gpa_t)slot * RXBUF;
	struct vmmio_drv_buf b[2] = {{gpa, len}, {0, 0}};
	unsigned n = 1;

	ck_assert_uint_le(len, RXBUF);
	if (split2 && len >= 2) {
		b[0].len = len / 2;
		b[1].gpa = gpa + len / 2;
		b[1].len = len - len / 2;
		n = 2;
	}
	r->rx_len[slot] = len;
	r->rx_posted[slot] = true;
	ck_assert_int_eq(
	    df_submit(&r->f, RXQ, b, 0, n, layout, &r->rx_tok[slot]), 0);
}

static unsigned rx_slot(struct rig *r, void *tok)
{
	unsigned slot = (unsigned)((unsigned *)tok - r->rx_tok);

	ck_assert_uint_lt(slot, QS);
	ck_assert(r->rx_posted[slot]);
	r->rx_posted[slot] = false;
	return slot;
}

/* Read exactly @n bytes from @fd (made non-blocking), running the
 * device meanwhile. */
static void host_read(struct rig *r, int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	double end = now_s() + 5.0;
	size_t got = 0;

	set_nonblock(fd);
	while (got < n) {
		ssize_t k = read(fd, p + got, n - got);

		if (k > 0) {
			got += (size_t)k;
			continue;
		}
		ck_assert_msg(k < 0 && errno == EAGAIN, "read: %zd %s", k,
			      strerror(errno));
		ck_assert_msg(now_s() < end, "timeout: %zu of %zu bytes", got,
			      n);
		(void)readable(fd, 10);
		df_poll(&r->f);
	}
}

static unsigned char pat(size_t off, unsigned seed)
{
	return (unsigned char)(((off + seed) * 2654435761u) >> 13);
}

/*
 * Guest output stream: @chains chains of 1..400 bytes in random buffer
 * counts and layouts; each chunk is read back from @rd (if >= 0) and
 * compared; @expect (if set) gets the whole stream. Returns its length.
 */
static size_t tx_stream(struct rig *r, int rd, unsigned chains,
			unsigned char *expect)
{
	unsigned char data[400], got[400];
	uint64_t tx0 = rig_stats(r).tx_bytes;
	size_t total = 0;

	for (unsigned i = 0; i < chains; i++) {
		uint32_t len = 1 + tg_rand(&r->seed) % 400;
		unsigned nbuf = 1 + tg_rand(&r->seed) % (len < 4 ? len : 4);
		enum df_layout layout = (enum df_layout)(tg_rand(&r->seed) % 3);

		for (uint32_t j = 0; j < len; j++)
			data[j] = pat(total + j, 7);
		guest_tx(r, data, len, nbuf, layout);
		if (rd >= 0) {
			host_read(r, rd, got, len);
			ck_assert_mem_eq(got, data, len);
		}
		if (expect)
			memcpy(expect + total, data, len);
		total += len;
	}
	ck_assert_uint_eq(rig_stats(r).tx_bytes - tx0, total);
	return total;
}

/*
 * Host input stream of @total bytes written to @wr (if >= 0; else the
 * backend already holds them) and received in order through receive
 * buffers of random sizes and layouts.
 */
static void rx_stream(struct rig *r, int wr, size_t total, unsigned seed)
{
	unsigned char *src = malloc(total), buf[RXBUF];
	size_t written = total, got = 0;
	uint64_t rx0 = rig_stats(r).rx_bytes;
	void *tok;
	uint32_t len;

	ck_assert_ptr_nonnull(src);
	for (size_t i = 0; i < total; i++)
		src[i] = pat(i, seed);
	if (wr >= 0) {
		set_nonblock(wr);
		written = 0;
	}
	for (unsigned s = 0; s < QS / 2; s++)
		if (!r->rx_posted[s])
			post_rx(r, s, 1 + tg_rand(&r->seed) % RXBUF,
				tg_rand(&r->seed) % 2,
				(enum df_layout)(tg_rand(&r->seed) % 3));
	while (got < total) {
		unsigned slot;

		if (written < total) {
			size_t n =
			    total - written < 300 ? total - written : 300;
			ssize_t k = write(wr, src + written, n);

			if (k > 0)
				written += (size_t)k;
		}
		ck_assert_int_eq(df_wait(&r->f, RXQ, &tok, &len), 1);
		slot = rx_slot(r, tok);
		ck_assert_uint_le(len, r->rx_len[slot]);
		ck_assert_uint_le(len, total - got);
		tg_read(&r->f.g, r->rx_arena + (vmmio_gpa_t)slot * RXBUF, buf,
			len);
		ck_assert_mem_eq(buf, src + got, len);
		got += len;
		post_rx(r, slot, 1 + tg_rand(&r->seed) % RXBUF, false,
			DF_DIRECT);
	}
	ck_assert_uint_eq(rig_stats(r).rx_bytes - rx0, total);
	free(src);
}

static unsigned n_allocs;
static long n_live;

static void *count_alloc(void *opaque, size_t n)
{
	(void)opaque;
	n_allocs++;
	n_live++;
	return malloc(n);
}

static void count_free(void *opaque, void *p)
{
	(void)opaque;
	n_live--;
	free(p);
}

/* ---- FD backend ---- */

START_TEST(test_fd_tx_order)
{
	struct rig *r = rig_fd(false);

	tx_stream(r, r->out_r, 200, NULL);
	ck_assert_uint_eq(rig_stats(r).tx_dropped, 0);
	ck_assert_int_eq(vmmio_dev_fault(rig_dev(r)), VMMIO_FAULT_NONE);
	rig_free(r);
}
END_TEST

START_TEST(test_fd_rx_order)
{
	struct rig *r = rig_fd(false);

	rx_stream(r, r->in_w, 20000, 3);
	ck_assert_int_eq(vmmio_dev_fault(rig_dev(r)), VMMIO_FAULT_NONE);
	rig_free(r);
}
END_TEST

/* The same streams with guest RAM made of many tiny regions. */
START_TEST(test_split_ram_order)
{
	struct rig *r = rig_fd(true);

	tx_stream(r, r->out_r, 150, NULL);
	rx_stream(r, r->in_w, 12000, 5);
	ck_assert_int_eq(vmmio_dev_fault(rig_dev(r)), VMMIO_FAULT_NONE);
	rig_free(r);
}
END_TEST

START_TEST(test_legacy_v1)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FD);

	rig_pipes(r);
	c.in_fd = r->in_r;
	c.out_fd = r->out_w;
	c.version = 1;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	ck_assert_uint_eq(vmmio_dev_version(rig_dev(r)), 1);
	tx_stream(r, r->out_r, 40, NULL);
	rx_stream(r, r->in_w, 3000, 8);
	rig_free(r);
}
END_TEST

/* ---- FILE backend ---- */

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/vmmio-con-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t n,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_file_backend)
{
	const char *dir = tmpdir();
	char out[128], in[128], fresh[128];
	unsigned char *expect = malloc(200 * 400), *all = malloc(200 * 400);
	unsigned char src[3000];
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FILE);
	struct stat st;
	size_t n;
	int fd;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(fresh, sizeof(fresh), "%s/fresh", dir);
	write_file(out, "old|", 4, 0644);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pat(i, 11);
	write_file(in, src, sizeof(src), 0644);
	c.out_path = out;
	c.in_path = in;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	n = tx_stream(r, -1, 200, expect);
	/* Appended after what was there, in order. */
	fd = open(out, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, all, 4 + n + 1), (ssize_t)(4 + n));
	close(fd);
	ck_assert_mem_eq(all, "old|", 4);
	ck_assert_mem_eq(all + 4, expect, n);
	/* Input: the whole file, then EOF and nothing more. */
	rx_stream(r, -1, sizeof(src), 11);
	df_poll(&r->f);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&r->f.vq[RXQ]), 0);
	ck_assert(!readable(vmmio_console_fd(r->con), 0));
	vmmio_console_free(r->con);
	/* A new output file is created owner-only. */
	c.out_path = fresh;
	c.in_path = NULL;
	ck_assert_int_eq(vmmio_console_new(&c, &r->con), 0);
	ck_assert_int_eq(stat(fresh, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	rig_free(r);
	rm_tree(dir);
	free(expect);
	free(all);
}
END_TEST

/* A FIFO as in_path: writers may come and go without EOF. */
START_TEST(test_file_fifo_input)
{
	const char *dir = tmpdir();
	char out[128], in[128];
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FILE);
	int w;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(in, sizeof(in), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(in, 0600), 0);
	c.out_path = out;
	c.in_path = in;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	for (int round = 0; round < 2; round++) {
		w = open(in, O_WRONLY | O_NONBLOCK);
		ck_assert_int_ge(w, 0);
		rx_stream(r, w, 1000, (unsigned)round);
		close(w);
		df_poll(&r->f);
	}
	rig_free(r);
	rm_tree(dir);
}
END_TEST

/* ---- SOCKET backend ---- */

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* True if @fd reads EOF within a second (the device closed it). */
static bool sees_eof(struct rig *r, int fd)
{
	double end = now_s() + 1.0;
	char ch;

	set_nonblock(fd);
	while (now_s() < end) {
		ssize_t k = read(fd, &ch, 1);

		if (k == 0)
			return true;
		if (k > 0 || errno != EAGAIN)
			return false;
		df_poll(&r->f);
		(void)readable(fd, 10);
	}
	return false;
}

START_TEST(test_socket_backend)
{
	const char *dir = tmpdir();
	char path[96];
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_SOCKET);
	struct stat st;
	char buf[16];
	int c1, c2, c3;

	snprintf(path, sizeof(path), "%s/con.sock", dir);
	c.path = path;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* No client: output completes, counted as dropped. */
	guest_tx(r, "lost", 4, 1, DF_DIRECT);
	ck_assert_uint_eq(rig_stats(r).tx_dropped, 4);
	ck_assert_uint_eq(rig_stats(r).tx_bytes, 0);
	/* First client gets output, in order, and sends input. */
	c1 = sock_connect(path);
	df_poll(&r->f);
	tx_stream(r, c1, 60, NULL);
	rx_stream(r, c1, 5000, 21);
	/* A second client is refused while the first is connected. */
	c2 = sock_connect(path);
	ck_assert(sees_eof(r, c2));
	guest_tx(r, "still", 5, 1, DF_DIRECT);
	host_read(r, c1, buf, 5);
	ck_assert_mem_eq(buf, "still", 5);
	/* The first leaves; the next one is accepted. */
	close(c1);
	df_poll(&r->f);
	df_poll(&r->f);
	c3 = sock_connect(path);
	df_poll(&r->f);
	guest_tx(r, "third", 5, 1, DF_INDIRECT);
	host_read(r, c3, buf, 5);
	ck_assert_mem_eq(buf, "third", 5);
	ck_assert_uint_eq(rig_stats(r).tx_dropped, 4);
	close(c2);
	close(c3);
	vmmio_console_free(r->con);
	r->con = NULL;
	ck_assert_int_eq(lstat(path, &st), -1); /* unlinked on free */
	rig_free(r);
	rm_tree(dir);
}
END_TEST

START_TEST(test_socket_path)
{
	const char *dir = tmpdir();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_SOCKET);
	struct vmmio_console *con;
	char path[96], file[96], buf[8];
	struct stat st;
	int fd, fds;

	/* A stale socket file (nobody listening) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	c.path = path;
	ck_assert_int_eq(vmmio_console_new(&c, &con), 0);
	fd = sock_connect(path); /* the new one listens */
	close(fd);
	vmmio_console_free(con);
	/* Anything else is refused and left alone, nothing leaked. */
	snprintf(file, sizeof(file), "%s/file", dir);
	write_file(file, "keep", 4, 0644);
	c.path = file;
	r->host.alloc = count_alloc;
	r->host.free = count_free;
	fds = count_fds();
	ck_assert_int_eq(vmmio_console_new(&c, &con), -EEXIST);
	ck_assert_uint_gt(n_allocs, 0);
	ck_assert_int_eq(n_live, 0);
	ck_assert_int_eq(count_fds(), fds);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	fd = open(file, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	rig_free(r);
	rm_tree(dir);
}
END_TEST

/* ---- PTY backend ---- */

START_TEST(test_pty_backend)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_PTY);
	struct virtio_console_config cc;
	struct termios t;
	struct winsize ws;
	const char *name;
	char buf[8];
	int s;

	rig_create(r, &c);
	rig_start(r, F_ALL);
	name = vmmio_console_pty_name(r->con);
	ck_assert_ptr_nonnull(name);
	ck_assert_int_eq(strncmp(name, "/dev/pts/", 9), 0);
	s = open(name, O_RDWR | O_NOCTTY);
	ck_assert_int_ge(s, 0);
	/* Raw mode on the pty. */
	ck_assert_int_eq(tcgetattr(s, &t), 0);
	ck_assert(!(t.c_lflag & (ICANON | ECHO | ISIG)));
	ck_assert(!(t.c_iflag & ICRNL));
	ck_assert(!(t.c_oflag & OPOST));
	/* A new pty gets the default size, as the guest sees it. */
	ck_assert_int_eq(ioctl(s, TIOCGWINSZ, &ws), 0);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(ws.ws_col, 80);
	ck_assert_uint_eq(ws.ws_row, 25);
	ck_assert_uint_eq(cc.cols, 80);
	ck_assert_uint_eq(cc.rows, 25);
	/* Raw: "\r" is not turned into "\n" and no line is waited for. */
	guest_tx(r, "a\rb", 3, 1, DF_DIRECT);
	host_read(r, s, buf, 3);
	ck_assert_mem_eq(buf, "a\rb", 3);
	tx_stream(r, s, 60, NULL);
	rx_stream(r, s, 3000, 9);
	/* No echo came back to the guest. */
	df_poll(&r->f);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&r->f.vq[RXQ]), 0);
	/* The client may leave and come back. */
	close(s);
	s = open(name, O_RDWR | O_NOCTTY);
	ck_assert_int_ge(s, 0);
	guest_tx(r, "back", 4, 1, DF_DIRECT);
	host_read(r, s, buf, 4);
	ck_assert_mem_eq(buf, "back", 4);
	close(s);
	rig_free(r);
}
END_TEST

/* ---- STDIO backend, in forked children ---- */

static void wait_ok(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x",
		      st);
}

static void stdio_pipes_child(int in_w, int out_r)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_STDIO);
	struct vmmio_console *other;
	int fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL);

	ck_assert(!(fl0 & O_NONBLOCK) && !(fl1 & O_NONBLOCK));
	rig_create(r, &c);
	rig_start(r, F_ALL);
	ck_assert(fcntl(0, F_GETFL) & O_NONBLOCK);
	/* One STDIO console per process. */
	ck_assert_int_eq(vmmio_console_new(&c, &other), -EBUSY);
	tx_stream(r, out_r, 50, NULL);
	rx_stream(r, in_w, 4000, 13);
	vmmio_console_free(r->con);
	/* Flags restored on free: the descriptions are shared. */
	ck_assert_int_eq(fcntl(0, F_GETFL), fl0);
	ck_assert_int_eq(fcntl(1, F_GETFL), fl1);
	/* The slot is free again. */
	ck_assert_int_eq(vmmio_console_new(&c, &r->con), 0);
	rig_free(r);
}

START_TEST(test_stdio_pipes)
{
	int in[2], out[2];
	pid_t pid;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ck_assert_int_ge(dup2(in[0], 0), 0);
		ck_assert_int_ge(dup2(out[1], 1), 0);
		stdio_pipes_child(in[1], out[0]);
		_exit(0);
	}
	wait_ok(pid);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}
END_TEST

struct ptypair {
	int m, s;
	char name[64];
};

static void pty_open(struct ptypair *p, unsigned short cols,
		     unsigned short rows)
{
	struct winsize ws = {.ws_col = cols, .ws_row = rows};

	p->m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(p->m, 0);
	ck_assert_int_eq(grantpt(p->m), 0);
	ck_assert_int_eq(unlockpt(p->m), 0);
	ck_assert_int_eq(ptsname_r(p->m, p->name, sizeof(p->name)), 0);
	p->s = open(p->name, O_RDWR | O_NOCTTY);
	ck_assert_int_ge(p->s, 0);
	ck_assert_int_eq(ioctl(p->m, TIOCSWINSZ, &ws), 0);
}

/* In the child: a new session with the pty slave as its terminal on
 * stdin/stdout. */
static void child_on_pty(const struct ptypair *p)
{
	int t;

	ck_assert_int_ge(setsid(), 0);
	t = open(p->name, O_RDWR); /* becomes the controlling terminal */
	ck_assert_int_ge(t, 0);
	ck_assert_int_ge(dup2(t, 0), 0);
	ck_assert_int_ge(dup2(t, 1), 0);
}

static void wait_byte(int fd, char want)
{
	char ch = 0;

	ck_assert_msg(readable(fd, 5000), "child not ready");
	ck_assert_int_eq(read(fd, &ch, 1), 1);
	ck_assert_int_eq(ch, want);
}

START_TEST(test_stdio_sigterm_restores)
{
	struct ptypair p;
	struct termios before, during, after;
	int sync[2], st;
	pid_t pid;

	pty_open(&p, 80, 24);
	ck_assert_int_eq(tcgetattr(p.s, &before), 0);
	ck_assert(before.c_lflag & ICANON);
	ck_assert(before.c_lflag & ECHO);
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rig *r = rig_new(false);
		struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_STDIO);

		child_on_pty(&p);
		c.restore_on_signal = true;
		rig_create(r, &c);
		ck_assert_int_eq(write(sync[1], "R", 1), 1);
		for (;;)
			pause();
	}
	wait_byte(sync[0], 'R');
	ck_assert_int_eq(tcgetattr(p.s, &during), 0);
	ck_assert(!(during.c_lflag & (ICANON | ECHO)));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	/* Died of the signal itself, after restoring the terminal. */
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(WTERMSIG(st), SIGTERM);
	ck_assert_int_eq(tcgetattr(p.s, &after), 0);
	ck_assert_uint_eq(after.c_lflag, before.c_lflag);
	ck_assert_uint_eq(after.c_iflag, before.c_iflag);
	ck_assert_uint_eq(after.c_oflag, before.c_oflag);
	close(sync[0]);
	close(sync[1]);
	close(p.s);
	close(p.m);
}
END_TEST

/* exit() without vmmio_console_free(): the atexit hook restores. */
START_TEST(test_stdio_exit_restores)
{
	struct ptypair p;
	struct termios before, during, after;
	int sync[2], go[2];
	pid_t pid;

	pty_open(&p, 80, 24);
	ck_assert_int_eq(tcgetattr(p.s, &before), 0);
	ck_assert_int_eq(pipe(sync), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rig *r = rig_new(false);
		struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_STDIO);
		char ch;

		child_on_pty(&p);
		rig_create(r, &c);
		ck_assert_int_eq(write(sync[1], "R", 1), 1);
		ck_assert_int_eq(read(go[0], &ch, 1), 1);
		exit(0);
	}
	wait_byte(sync[0], 'R');
	ck_assert_int_eq(tcgetattr(p.s, &during), 0);
	ck_assert(!(during.c_lflag & (ICANON | ECHO)));
	ck_assert_int_eq(write(go[1], "G", 1), 1);
	wait_ok(pid);
	ck_assert_int_eq(tcgetattr(p.s, &after), 0);
	ck_assert_uint_eq(after.c_lflag, before.c_lflag);
	ck_assert_uint_eq(after.c_iflag, before.c_iflag);
	ck_assert_uint_eq(after.c_oflag, before.c_oflag);
	close(sync[0]);
	close(sync[1]);
	close(go[0]);
	close(go[1]);
	close(p.s);
	close(p.m);
}
END_TEST

/* The child: size from the terminal, then a SIGWINCH resize. */
static void winch_child(const struct ptypair *p, int sync_w)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_STDIO);
	struct virtio_console_config cc;
	uint32_t gen0;
	double end;

	child_on_pty(p);
	c.restore_on_signal = true;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(cc.cols, 100);
	ck_assert_uint_eq(cc.rows, 30);
	gen0 = vmmio_dev_config_generation(rig_dev(r));
	ck_assert_int_eq(write(sync_w, "R", 1), 1);
	end = now_s() + 5.0;
	do {
		ck_assert_msg(now_s() < end, "no resize seen");
		(void)readable(vmmio_console_fd(r->con), 10);
		df_poll(&r->f);
		df_config(&r->f, 0, &cc, sizeof(cc));
	} while (cc.cols != 132);
	ck_assert_uint_eq(cc.rows, 43);
	ck_assert_uint_ge(r->f.config_irqs, 1);
	ck_assert_uint_gt(vmmio_dev_config_generation(rig_dev(r)), gen0);
	rig_free(r);
}

START_TEST(test_stdio_sigwinch)
{
	struct ptypair p;
	struct winsize ws = {.ws_col = 132, .ws_row = 43};
	int sync[2];
	pid_t pid;

	pty_open(&p, 100, 30);
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		winch_child(&p, sync[1]);
		_exit(0);
	}
	wait_byte(sync[0], 'R');
	ck_assert_int_eq(ioctl(p.m, TIOCSWINSZ, &ws), 0);
	wait_ok(pid);
	close(sync[0]);
	close(sync[1]);
	close(p.s);
	close(p.m);
}
END_TEST

/* ---- config space ---- */

START_TEST(test_resize)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FD);
	struct virtio_console_config cc;
	uint32_t gen0, gen_reg = 0;
	unsigned irqs0;

	rig_pipes(r);
	c.out_fd = r->out_w;
	c.cols = 100;
	c.rows = 40;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(cc.cols, 100);
	ck_assert_uint_eq(cc.rows, 40);
	ck_assert_uint_eq(cc.max_nr_ports, 1);
	ck_assert_uint_eq(cc.emerg_wr, 0);
	gen0 = vmmio_dev_config_generation(rig_dev(r));
	irqs0 = r->f.config_irqs;
	vmmio_console_resize(r->con, 132, 43);
	df_poll(&r->f); /* acknowledges: counts InterruptStatus bit 1 */
	ck_assert_uint_eq(r->f.config_irqs, irqs0 + 1);
	ck_assert_int_eq(vmmio_dev_read(rig_dev(r),
					VIRTIO_MMIO_CONFIG_GENERATION, &gen_reg,
					4),
			 0);
	ck_assert_uint_gt(gen_reg, gen0);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(cc.cols, 132);
	ck_assert_uint_eq(cc.rows, 43);
	/* The same size again is no change. */
	vmmio_console_resize(r->con, 132, 43);
	df_poll(&r->f);
	ck_assert_uint_eq(r->f.config_irqs, irqs0 + 1);
	/* Without VIRTIO_CONSOLE_F_SIZE: new values, no interrupt. */
	df_restart(&r->f, F_ALL & ~F_SIZE);
	irqs0 = r->f.config_irqs;
	vmmio_console_resize(r->con, 90, 20);
	df_poll(&r->f);
	ck_assert_uint_eq(r->f.config_irqs, irqs0);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(cc.cols, 90);
	rig_free(r);
}
END_TEST

START_TEST(test_emerg_write)
{
	struct rig *r = rig_fd(false);
	struct vmmio_console_config c;
	struct virtio_console_config cc;
	uint32_t v = 'E';
	uint8_t b = 'F';
	uint16_t cols = 7;
	char buf[4];

	ck_assert_uint_eq(r->f.features & F_EMERG, F_EMERG);
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, EMERG_OFF, &v, 4),
			 0);
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, EMERG_OFF, &b, 1),
			 0);
	/* Any time: also before the driver sets anything up. */
	ck_assert_int_eq(vmmio_drv_reset(&r->f.drv), 0);
	v = 0x4847; /* low byte 'G' */
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, EMERG_OFF, &v, 4),
			 0);
	host_read(r, r->out_r, buf, 3);
	ck_assert_mem_eq(buf, "EFG", 3);
	ck_assert_uint_eq(rig_stats(r).tx_bytes, 3);
	/* Other fields are read-only. */
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, 0, &cols, 2), 0);
	df_config(&r->f, 0, &cc, sizeof(cc));
	ck_assert_uint_eq(cc.cols, 80);
	ck_assert_int_eq(read(r->out_r, buf, 1), -1);
	vmmio_console_free(r->con);
	/* Not offered: ignored. */
	c = rig_cfg(r, VMMIO_CONSOLE_FD);
	c.out_fd = r->out_w;
	c.features_off = F_EMERG;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	ck_assert_uint_eq(r->f.features & F_EMERG, 0);
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, EMERG_OFF, &v, 4),
			 0);
	ck_assert_int_eq(read(r->out_r, buf, 1), -1);
	ck_assert_uint_eq(rig_stats(r).tx_bytes + rig_stats(r).tx_dropped, 0);
	rig_free(r);
}
END_TEST

/* ---- backpressure and bounded memory ---- */

static long rss_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &res), 2);
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

#define FLOOD (8u << 20)
#define CHUNK 4096u

struct flood {
	struct rig *r;
	vmmio_gpa_t bufs;
	unsigned tok[QS];
	bool busy[QS];
	size_t sent, outstanding;
	unsigned max_inflight;
};

/* Guest: collect completions, refill every free slot. */
static void flood_step(struct flood *fl)
{
	struct vmmio_vq *q = vmmio_dev_queue(rig_dev(fl->r), TXQ);
	unsigned char chunk[CHUNK];
	void *tok;
	uint32_t len;

	while (vmmio_drv_vq_get_used(&fl->r->f.vq[TXQ], &tok, &len) == 1) {
		fl->busy[(unsigned *)tok - fl->tok] = false;
		fl->outstanding--;
	}
	for (unsigned s = 0; s < QS && fl->sent < FLOOD; s++) {
		struct vmmio_drv_buf b = {fl->bufs + (vmmio_gpa_t)s * CHUNK,
					  CHUNK};

		if (fl->busy[s])
			continue;
		for (unsigned i = 0; i < CHUNK; i++)
			chunk[i] = pat(fl->sent + i, 1);
		tg_write(&fl->r->f.g, b.gpa, chunk, CHUNK);
		if (df_submit(&fl->r->f, TXQ, &b, 1, 0, DF_DIRECT, &fl->tok[s]))
			break;
		fl->busy[s] = true;
		fl->sent += CHUNK;
		fl->outstanding++;
	}
	df_poll(&fl->r->f);
	if (vmmio_vq_inflight(q) > fl->max_inflight)
		fl->max_inflight = vmmio_vq_inflight(q);
}

START_TEST(test_flood_bounded)
{
	struct flood fl = {0};
	struct rig *r = rig_new(false);
	struct vmmio_console_config c = rig_cfg(r, VMMIO_CONSOLE_FD);
	static unsigned char buf[65536], want[65536];
	size_t recvd = 0;
	long rss0, pipe_sz;
	unsigned allocs0;
	double end;

	r->host.alloc = count_alloc;
	r->host.free = count_free;
	rig_pipes(r);
	c.out_fd = r->out_w;
	rig_create(r, &c);
	rig_start(r, F_ALL);
	fl.r = r;
	fl.bufs = tg_alloc(&r->f.g, QS * CHUNK, 16);
	pipe_sz = fcntl(r->out_w, F_GETPIPE_SZ);
	allocs0 = n_allocs;
	rss0 = rss_kib();
	/* Nobody reads: the pipe fills, then the transmit queue. */
	for (int i = 0; i < 100; i++)
		flood_step(&fl);
	ck_assert_uint_eq(fl.outstanding, QS); /* the guest waits */
	ck_assert_uint_lt(fl.sent, FLOOD);
	ck_assert_uint_le(rig_stats(r).tx_bytes, (uint64_t)pipe_sz);
	ck_assert_uint_le(fl.max_inflight, QS);
	ck_assert_uint_ge(fl.max_inflight, 1);
	/* Waiting for POLLOUT, not spinning. */
	ck_assert(!readable(vmmio_console_fd(r->con), 0));
	ck_assert_uint_eq(n_allocs, allocs0);
	ck_assert_int_lt(rss_kib() - rss0, 2048);
	/* Drain: every byte arrives, in order. */
	end = now_s() + 30.0;
	while (recvd < FLOOD) {
		ssize_t k = read(r->out_r, buf, sizeof(buf));

		ck_assert_msg(now_s() < end, "stalled at %zu", recvd);
		for (ssize_t i = 0; i < k; i++)
			want[i] = pat(recvd + (size_t)i, 1);
		if (k > 0)
			ck_assert_msg(!memcmp(buf, want, (size_t)k),
				      "wrong bytes after %zu", recvd);
		if (k > 0)
			recvd += (size_t)k;
		else
			(void)readable(vmmio_console_fd(r->con), 10);
		flood_step(&fl);
	}
	ck_assert_uint_eq(rig_stats(r).tx_bytes, FLOOD);
	ck_assert_uint_eq(rig_stats(r).tx_dropped, 0);
	ck_assert_uint_le(fl.max_inflight, QS);
	ck_assert_uint_eq(n_allocs, allocs0);
	ck_assert_int_lt(rss_kib() - rss0, 4096);
	rig_free(r);
	ck_assert_int_eq(n_live, 0);
}
END_TEST

/* No receive buffer: the input is not polled and stays in the pipe. */
START_TEST(test_rx_backpressure)
{
	struct rig *r = rig_fd(false);
	int epfd = vmmio_console_fd(r->con);
	char buf[8];
	void *tok;
	uint32_t len;

	ck_assert_int_eq(write(r->in_w, "waiting", 7), 7);
	ck_assert(!readable(epfd, 50));
	df_poll(&r->f);
	ck_assert_uint_eq(rig_stats(r).rx_bytes, 0);
	/* A posted buffer (and its kick) takes it at once. */
	post_rx(r, 0, 4, false, DF_DIRECT);
	ck_assert_int_eq(vmmio_drv_vq_get_used(&r->f.vq[RXQ], &tok, &len), 1);
	ck_assert_uint_eq(len, 4);
	tg_read(&r->f.g, r->rx_arena, buf, 4);
	ck_assert_mem_eq(buf, "wait", 4);
	/* The rest waits for the next buffer, unpolled. */
	ck_assert(!readable(epfd, 50));
	post_rx(r, 1, 16, false, DF_DIRECT);
	ck_assert_int_eq(df_wait(&r->f, RXQ, &tok, &len), 1);
	ck_assert_uint_eq(len, 3);
	tg_read(&r->f.g, r->rx_arena + RXBUF, buf, 3);
	ck_assert_mem_eq(buf, "ing", 3);
	/* A posted buffer with nothing to read: polled for input. */
	post_rx(r, 2, 16, false, DF_DIRECT);
	ck_assert(!readable(epfd, 20));
	ck_assert_int_eq(write(r->in_w, "x", 1), 1);
	ck_assert(readable(epfd, 1000));
	rig_free(r);
}
END_TEST

/* EOF on input: stop reading it, and stop polling it. */
START_TEST(test_input_eof)
{
	struct rig *r = rig_fd(false);
	void *tok;
	uint32_t len;

	post_rx(r, 0, 16, false, DF_DIRECT);
	post_rx(r, 1, 16, false, DF_DIRECT);
	ck_assert_int_eq(write(r->in_w, "last", 4), 4);
	ck_assert_int_eq(df_wait(&r->f, RXQ, &tok, &len), 1);
	ck_assert_uint_eq(len, 4);
	close_fd(&r->in_w);
	df_poll(&r->f);
	ck_assert(!readable(vmmio_console_fd(r->con), 50));
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&r->f.vq[RXQ]), 0);
	/* Output still works. */
	guest_tx(r, "out", 3, 1, DF_DIRECT);
	rig_free(r);
}
END_TEST

/* The reader went away: no SIGPIPE, output dropped and counted. */
START_TEST(test_output_epipe)
{
	struct rig *r = rig_fd(false);

	close_fd(&r->out_r);
	guest_tx(r, "nobody", 6, 2, DF_DIRECT);
	guest_tx(r, "there", 5, 1, DF_DIRECT);
	ck_assert_uint_eq(rig_stats(r).tx_dropped, 11);
	ck_assert_uint_eq(rig_stats(r).tx_bytes, 0);
	ck_assert(!readable(vmmio_console_fd(r->con), 20));
	rig_free(r);
}
END_TEST

/* Reset drops the chain held for a full pipe; output resumes after. */
START_TEST(test_reset_drops_inflight)
{
	struct rig *r = rig_fd(false);
	struct vmmio_vq *q = vmmio_dev_queue(rig_dev(r), TXQ);
	struct vmmio_drv_buf b = {r->tx_arena, 4096};
	unsigned char buf[65536];
	unsigned tok = 0;
	char got[5];

	/* Fill the pipe, then one more chain stays in flight. */
	for (int i = 0; vmmio_vq_inflight(q) == 0; i++) {
		void *t;
		uint32_t len;

		ck_assert_int_lt(i, 1000);
		ck_assert_int_eq(
		    df_submit(&r->f, TXQ, &b, 1, 0, DF_DIRECT, &tok), 0);
		df_poll(&r->f);
		while (vmmio_drv_vq_get_used(&r->f.vq[TXQ], &t, &len) == 1)
			;
	}
	ck_assert_uint_eq(vmmio_vq_inflight(q), 1);
	ck_assert_int_eq(vmmio_drv_reset(&r->f.drv), 0);
	ck_assert_uint_eq(vmmio_vq_inflight(q), 0);
	/* Not polled for output any more: the chain is gone. */
	while (read(r->out_r, buf, sizeof(buf)) > 0)
		;
	ck_assert(!readable(vmmio_console_fd(r->con), 20));
	df_poll(&r->f);
	ck_assert(!readable(vmmio_console_fd(r->con), 0));
	df_start(&r->f, rig_dev(r), F_ALL, 2, QS);
	/* Nothing of the old chain is written after the reset. */
	ck_assert_int_eq(read(r->out_r, buf, sizeof(buf)), -1);
	guest_tx(r, "after", 5, 1, DF_DIRECT);
	host_read(r, r->out_r, got, 5);
	ck_assert_mem_eq(got, "after", 5);
	rig_free(r);
}
END_TEST

/* A ring violation: process() says -EIO, emergency output still goes. */
START_TEST(test_fault_eio)
{
	struct rig *r = rig_fd(false);
	struct vmmio_drv_vq *vq = &r->f.vq[TXQ];
	uint16_t bad = QS + 3, idx = vq->avail_idx;
	uint32_t v = '!';
	char ch;

	memcpy(vq->avail + 4 + 2u * (idx % QS), &bad, 2);
	idx++;
	__atomic_store_n((uint16_t *)(void *)(vq->avail + 2), idx,
			 __ATOMIC_RELEASE);
	vmmio_drv_notify(&r->f.drv, TXQ);
	ck_assert_int_eq(vmmio_dev_fault(rig_dev(r)), VMMIO_FAULT_HEAD_RANGE);
	ck_assert_int_eq(vmmio_console_process(r->con), -EIO);
	ck_assert(!readable(vmmio_console_fd(r->con), 20));
	ck_assert_int_eq(vmmio_drv_config_write(&r->f.drv, EMERG_OFF, &v, 4),
			 0);
	host_read(r, r->out_r, &ch, 1);
	ck_assert_int_eq(ch, '!');
	/* A reset recovers. */
	df_restart(&r->f, F_ALL);
	ck_assert_int_eq(vmmio_console_process(r->con), 0);
	guest_tx(r, "ok", 2, 1, DF_DIRECT);
	rig_free(r);
}
END_TEST

/*
 * Chains in the wrong direction (virtio 1.2 §5.3.6.1 is a driver
 * requirement): the wrong part is ignored, not a fault.
 */
START_TEST(test_wrong_direction)
{
	struct rig *r = rig_fd(false);
	vmmio_gpa_t a = r->rx_arena;
	struct vmmio_drv_buf tx[2] = {{r->tx_arena, 3}, {a, 16}};
	struct vmmio_drv_buf rd_only = {a + 64, 8};
	struct vmmio_drv_buf both[2] = {{a + 128, 4}, {a + 256, 16}};
	unsigned t1, t2, t3;
	unsigned char keep[4] = {1, 2, 3, 4}, buf[16];
	void *tok;
	uint32_t len;

	/* Transmit chain with a writable part: readable bytes out, 0. */
	tg_write(&r->f.g, r->tx_arena, "abc", 3);
	ck_assert_int_eq(df_submit(&r->f, TXQ, tx, 1, 1, DF_MIXED, &t1), 0);
	ck_assert_int_eq(df_wait(&r->f, TXQ, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &t1);
	ck_assert_uint_eq(len, 0);
	host_read(r, r->out_r, buf, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	/* Receive chain with no writable part: completed empty. */
	ck_assert_int_eq(write(r->in_w, "data", 4), 4);
	ck_assert_int_eq(df_submit(&r->f, RXQ, &rd_only, 1, 0, DF_DIRECT, &t2),
			 0);
	ck_assert_int_eq(df_wait(&r->f, RXQ, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &t2);
	ck_assert_uint_eq(len, 0);
	/* Readable and writable: the input goes to the writable part. */
	tg_write(&r->f.g, a + 128, keep, 4);
	ck_assert_int_eq(df_submit(&r->f, RXQ, both, 1, 1, DF_INDIRECT, &t3),
			 0);
	ck_assert_int_eq(df_wait(&r->f, RXQ, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &t3);
	ck_assert_uint_eq(len, 4);
	tg_read(&r->f.g, a + 256, buf, 4);
	ck_assert_mem_eq(buf, "data", 4);
	tg_read(&r->f.g, a + 128, buf, 4);
	ck_assert_mem_eq(buf, keep, 4);
	ck_assert_int_eq(vmmio_dev_fault(rig_dev(r)), VMMIO_FAULT_NONE);
	/* Many of them: the log lines are rate limited. */
	r->f.logs = 0;
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(
		    df_submit(&r->f, TXQ, tx, 1, 1, DF_DIRECT, &t1), 0);
		ck_assert_int_eq(df_wait(&r->f, TXQ, &tok, &len), 1);
	}
	ck_assert_uint_ge(r->f.logs, 1);
	ck_assert_uint_le(r->f.logs, 11);
	rig_free(r);
}
END_TEST

/* ---- parameters and allocation failure ---- */

START_TEST(test_bad_config)
{
	struct rig *r = rig_new(false);
	struct vmmio_console_config base = rig_cfg(r, VMMIO_CONSOLE_FD);
	struct vmmio_host_ops no_irq = {.size = sizeof(no_irq)};
	char longpath[200];
	struct vmmio_console *con = NULL;

	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	ck_assert_int_eq(vmmio_console_new(NULL, &con), -EINVAL);
	ck_assert_int_eq(vmmio_console_new(&base, NULL), -EINVAL);
	for (int row = 0;; row++) {
		struct vmmio_console_config c = base;

		switch (row) {
		case 0:
			c.size = sizeof(c) - 1;
			break;
		case 1:
			c.backend = VMMIO_CONSOLE_BACKEND__COUNT;
			break;
		case 2:
			c.backend = (enum vmmio_console_backend) - 1;
			break;
		case 3:
			c.queue_size = 3;
			break;
		case 4:
			c.queue_size = 2048;
			break;
		case 5:
			c.queue_size = 100;
			break;
		case 6:
			c.backend = VMMIO_CONSOLE_FILE;
			break;
		case 7:
			c.backend = VMMIO_CONSOLE_FILE;
			c.out_path = "";
			break;
		case 8:
			c.backend = VMMIO_CONSOLE_SOCKET;
			break;
		case 9:
			c.backend = VMMIO_CONSOLE_SOCKET;
			c.path = "";
			break;
		case 10:
			c.backend = VMMIO_CONSOLE_SOCKET;
			c.path = longpath;
			break;
		case 11:
			c.in_fd = -2;
			break;
		case 12:
			c.out_fd = -7;
			break;
		case 13:
			c.mem = NULL;
			break;
		case 14:
			c.host = &no_irq;
			break;
		case 15:
			c.host = NULL;
			break;
		case 16:
			c.version = 3;
			break;
		case 17:
			c.backend = VMMIO_CONSOLE_FILE;
			c.out_path = "/tmp/x";
			c.in_path = "";
			break;
		default:
			goto done;
		}
		ck_assert_msg(vmmio_console_new(&c, &con) == -EINVAL, "row %d",
			      row);
	}
done:
	/* The message names the value (rows through the log hook). */
	ck_assert_ptr_nonnull(strstr(r->f.last_log, "vmmio_console_new"));
	ck_assert_int_eq(vmmio_console_new(&base, &con), 0);
	vmmio_console_free(con);
	rig_free(r);
}
END_TEST

static void sweep(enum vmmio_console_backend b, const char *path)
{
	static unsigned char ram[65536] __attribute__((aligned(4096)));
	struct vmmio_mem_region reg = {0x1000, sizeof(ram), ram, false};
	struct vmmio_console_config c = {.size = sizeof(c),
					 .backend = b,
					 .in_fd = -1,
					 .out_fd = -1,
					 .path = path,
					 .out_path = path,
					 .host = &failer_ops};
	struct vmmio_console *con;
	struct vmmio_mem *m;
	struct stat st;
	int p[2], fds;
	unsigned n;

	ck_assert_int_eq(vmmio_mem_new(&reg, 1, NULL, NULL, &m), 0);
	ck_assert_int_eq(pipe(p), 0);
	c.in_fd = p[0];
	c.out_fd = p[1];
	c.mem = m;
	fds = count_fds();
	for (n = 1;; n++) {
		struct failer f = {.fail_at = n};
		int rc;

		c.host_opaque = &f;
		rc = vmmio_console_new(&c, &con);
		if (rc == 0)
			vmmio_console_free(con);
		ck_assert_int_eq(f.live, 0);
		ck_assert_int_eq(count_fds(), fds);
		if (b == VMMIO_CONSOLE_SOCKET)
			ck_assert_int_eq(lstat(path, &st), -1);
		if (rc == 0) {
			ck_assert_uint_lt(f.count, n); /* none failed */
			break;
		}
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_uint_lt(n, 1000);
	}
	/* Console, device, two queues and their arrays. */
	ck_assert_uint_ge(n - 1, 4);
	close(p[0]);
	close(p[1]);
	vmmio_mem_free(m);
}

START_TEST(test_alloc_sweep)
{
	const char *dir = tmpdir();
	char path[96];

	sweep(VMMIO_CONSOLE_FD, NULL);
	sweep(VMMIO_CONSOLE_PTY, NULL);
	snprintf(path, sizeof(path), "%s/sweep.sock", dir);
	sweep(VMMIO_CONSOLE_SOCKET, path);
	snprintf(path, sizeof(path), "%s/sweep.out", dir);
	sweep(VMMIO_CONSOLE_FILE, path);
	rm_tree(dir);
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("console");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fd_tx_order);
	tcase_add_test(tc, test_fd_rx_order);
	tcase_add_test(tc, test_split_ram_order);
	tcase_add_test(tc, test_legacy_v1);
	tcase_add_test(tc, test_file_backend);
	tcase_add_test(tc, test_file_fifo_input);
	tcase_add_test(tc, test_socket_backend);
	tcase_add_test(tc, test_socket_path);
	tcase_add_test(tc, test_pty_backend);
	tcase_add_test(tc, test_stdio_pipes);
	tcase_add_test(tc, test_stdio_sigterm_restores);
	tcase_add_test(tc, test_stdio_exit_restores);
	tcase_add_test(tc, test_stdio_sigwinch);
	tcase_add_test(tc, test_resize);
	tcase_add_test(tc, test_emerg_write);
	tcase_add_test(tc, test_flood_bounded);
	tcase_add_test(tc, test_rx_backpressure);
	tcase_add_test(tc, test_input_eof);
	tcase_add_test(tc, test_output_epipe);
	tcase_add_test(tc, test_reset_drops_inflight);
	tcase_add_test(tc, test_fault_eio);
	tcase_add_test(tc, test_wrong_direction);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_alloc_sweep);
	suite_add_tcase(s, tc);
	return s;
}
