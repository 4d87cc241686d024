/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-console state shared by the model and its backends. */
#ifndef VMMIO_CONSOLE_INTERNAL_H
#define VMMIO_CONSOLE_INTERNAL_H

#include <stdint.h>

#include <vmmio/console.h>
#include <vmmio/queue.h>

#include "../src/internal.h"

/* Queues of port 0 (virtio 1.2 §5.3.2). */
#define CON_RXQ 0u
#define CON_TXQ 1u
#define CON_NUM_QUEUES 2u
#define CON_QSIZE_DEFAULT 128u
#define CON_QSIZE_MAX 1024u
/* Segments one chain may have (UIO_MAXIOV): one readv/writev each. */
#define CON_SEGS 1024u
#define CON_COLS_DEFAULT 80u
#define CON_ROWS_DEFAULT 25u
/* sizeof(struct sockaddr_un.sun_path) */
#define CON_PATH_MAX 108u
#define CON_PTY_NAME_MAX 64u

/* A popped chain the device is still working on. */
struct con_chain {
	struct vmmio_chain c;
	bool busy;
	uint32_t off; /* transmit: readable bytes already written */
};

/* One descriptor the device polls, with what is registered now. */
struct con_watch {
	int fd;		 /* -1: none */
	uint32_t events; /* registered in the epoll set (0: not there) */
	bool nopoll;	 /* regular file and the like: always ready */
};

struct vmmio_console {
	struct vmmio_dev *dev;
	const struct vmmio_host_ops *host;
	void *host_opaque;
	enum vmmio_console_backend backend;
	uint16_t qsize;
	uint16_t cols, rows;
	uint64_t offered;

	/* Backend. in/out may be the same descriptor (socket, pty). */
	struct con_watch in, out;
	bool in_eof;	 /* stopped reading: EOF or read error */
	bool out_dead;	 /* stopped writing: EPIPE or write error */
	bool out_sock;	 /* write with MSG_NOSIGNAL */
	bool out_fifo;	 /* write with SIGPIPE blocked */
	bool own_in;	 /* close in.fd at free */
	bool own_out;	 /* close out.fd at free */
	int fl_in;	 /* original file status flags, -1: not changed */
	int fl_out;	 /* (FD, STDIO: O_NONBLOCK is per description) */
	int listen_fd;	 /* SOCKET */
	int pty_slave;	 /* PTY: kept open so the master never hangs up */
	bool stdio_slot; /* holds the process-wide STDIO terminal slot */
	char path[CON_PATH_MAX];
	uint64_t path_dev, path_ino; /* the socket file we made */
	char pty_name[CON_PTY_NAME_MAX];

	/* Event loop. */
	int epfd;
	int wake_fd;	 /* eventfd: work left over after a bounded run */
	int winch_fd;	 /* read end of the SIGWINCH self-pipe, or -1 */
	bool rx_idle;	 /* no receive buffer posted: input not polled */
	bool tx_blocked; /* output returned EAGAIN: wait for EPOLLOUT */

	struct con_chain tx, rx;
	struct vmmio_console_stats st;
	struct vmmio__ratelimit rl;
	struct vmmio_seg tx_seg[CON_SEGS];
	struct vmmio_seg rx_seg[CON_SEGS];
	struct vmmio_seg iov[CON_SEGS]; /* scratch for readv/writev */
};

/* console_backend.c */

/* Open cfg's backend into con (fds -1 on entry). Return 0 or -errno. */
int vmmio__con_open(struct vmmio_console *con,
		    const struct vmmio_console_config *cfg);
/* Undo vmmio__con_open (fds already out of the epoll set). */
void vmmio__con_close(struct vmmio_console *con);
/* SOCKET: accept pending clients; the first becomes the client. */
void vmmio__con_accept(struct vmmio_console *con);
/* SOCKET: the client went away (EOF, reset): close it. */
void vmmio__con_drop_client(struct vmmio_console *con);
/* SOCKET: drop the client if it hung up (checked while not reading). */
void vmmio__con_check_client(struct vmmio_console *con);
/* Terminal size of the STDIO terminal; false if there is none. */
bool vmmio__con_term_size(const struct vmmio_console *con, uint16_t *cols,
			  uint16_t *rows);

/* console.c */

/* Put the epoll set in line with what the device wants now. */
void vmmio__con_watch(struct vmmio_console *con);

#endif /* VMMIO_CONSOLE_INTERNAL_H */
