/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-console device model (virtio 1.2 §5.3), one port. */
#ifndef VMMIO_CONSOLE_H
#define VMMIO_CONSOLE_H

#include <vmmio/common.h>
#include <vmmio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A virtio-console with one port (receiveq 0, transmitq 1), as Linux's
 * hvc driver uses it, with VIRTIO_CONSOLE_F_SIZE and
 * VIRTIO_CONSOLE_F_EMERG_WRITE. It owns its virtio-mmio transport
 * (vmmio_console_dev()). Event loop, as for every libvmmio device:
 *
 *	fd = vmmio_console_fd(con);    // poll for POLLIN
 *	...on POLLIN, under the device lock:
 *	vmmio_console_process(con);
 *
 * Guest output goes to the backend in order, written straight from the
 * guest's buffers; a chain is returned to the guest only once all of it
 * was written. While the backend does not accept more (EAGAIN), output
 * chains stay in flight: the transmit queue fills and the guest waits.
 * Host input is read only into receive buffers the guest posted, in
 * order. No host-side copy, so host memory does not grow with the
 * guest's traffic.
 *
 * Details: max_nr_ports reads 1. An emergency write is honoured whenever
 * EMERG_WRITE is offered, even before negotiation or after a fault (virtio
 * 1.2 §5.3.4). A chain needing more than 1024 segments latches fault
 * SEGMENTS. Chains in flight hold host pointers into guest memory: keep
 * the old memory mapped across vmmio_dev_set_mem() until a reset.
 *
 * Threading: the device contract of <vmmio/device.h>.
 */
struct vmmio_console;

enum vmmio_console_backend {
	/* The process's stdin/stdout. A terminal is put in raw mode and
	 * restored by vmmio_console_free(), at exit() and, with
	 * restore_on_signal, on fatal and terminating signals. */
	VMMIO_CONSOLE_STDIO,
	/* Output appended to out_path (created 0600 if missing); input read
	 * from in_path if set (a file, or a FIFO, opened read-write so it
	 * never reports EOF between writers). */
	VMMIO_CONSOLE_FILE,
	/* The caller's descriptors in_fd / out_fd (pipes, sockets); -1 for
	 * none. Not closed by the device. */
	VMMIO_CONSOLE_FD,
	/* A Unix stream socket listening at path; one client at a time.
	 * Output while no client is connected is discarded (counted). */
	VMMIO_CONSOLE_SOCKET,
	/* A new pseudo-terminal; vmmio_console_pty_name() gives the slave.
	 * The device keeps the slave open (no hang-up between clients), sets
	 * its window size to cols/rows; resizes made on the slave side are
	 * not seen: call vmmio_console_resize(). */
	VMMIO_CONSOLE_PTY,
	VMMIO_CONSOLE_BACKEND__COUNT
};

/*
 * Parameters, copied by vmmio_console_new().
 * size:      sizeof(struct vmmio_console_config).
 * backend:   see enum vmmio_console_backend.
 * path:      SOCKET: the socket path (an existing socket file there is
 *            replaced; any other file is refused with -EEXIST).
 * in_path, out_path: FILE backend.
 * in_fd, out_fd: FD backend.
 * restore_on_signal: STDIO on a terminal: install handlers for SIGINT,
 *            SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 *            SIGABRT that restore the terminal and re-raise the signal,
 *            and for SIGWINCH that resizes the console.
 * STDIO is process-wide: at most one STDIO console at a time (-EBUSY).
 * cols, rows: initial size (VIRTIO_CONSOLE_F_SIZE); 0 takes the
 *            terminal's size (STDIO, PTY) or 80x25.
 * features_off: VIRTIO_CONSOLE_F_* / ring bits (1ULL << bit) not to offer.
 * queue_size: entries per queue, a power of two up to 1024; 0 = 128.
 * version, mem, host, host_opaque: as struct vmmio_dev_config.
 */
struct vmmio_console_config {
	uint32_t size;
	enum vmmio_console_backend backend;
	const char *path;
	const char *in_path;
	const char *out_path;
	int in_fd;
	int out_fd;
	bool restore_on_signal;
	uint16_t cols, rows;
	uint64_t features_off;
	uint16_t queue_size;
	uint32_t version;
	const struct vmmio_mem *mem;
	const struct vmmio_host_ops *host;
	void *host_opaque;
};

/*
 * vmmio_console_new() - set up the backend and create the device.
 * Return: 0; -EINVAL bad parameter (message to the log hook naming it);
 *         -EBUSY a second STDIO console; -EEXIST socket path
 *         taken by a non-socket; -ENOMEM; or the errno of opening the
 *         backend.
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_console_new(const struct vmmio_console_config *cfg,
		  struct vmmio_console **out);

/* vmmio_console_free() - restore the terminal, close what the device
 * opened (the socket file is unlinked), free (NULL ok). */
VMMIO_API void vmmio_console_free(struct vmmio_console *con);

/* vmmio_console_dev() - the device's virtio-mmio transport, owned by
 * @con (freed with it): dispatch the window's MMIO and notifies to it. */
VMMIO_API struct vmmio_dev *vmmio_console_dev(struct vmmio_console *con);

/* vmmio_console_fd() - one descriptor (an epoll set of the backend's
 * descriptors, with the events the device wants now) that polls
 * readable when vmmio_console_process() has work. */
VMMIO_API int vmmio_console_fd(const struct vmmio_console *con);

/*
 * vmmio_console_process() - move bytes both ways as far as the backend
 * and the guest's buffers allow, accept/drop a socket client, apply a
 * pending SIGWINCH resize. Never blocks.
 * Return: 0; -EIO the device is faulted.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_console_process(struct vmmio_console *con);

/*
 * vmmio_console_resize() - new terminal size: updates cols/rows and, if
 * VIRTIO_CONSOLE_F_SIZE was negotiated, raises a configuration interrupt.
 * Under the device lock.
 */
VMMIO_API void vmmio_console_resize(struct vmmio_console *con, uint16_t cols,
				    uint16_t rows);

/* The PTY backend's slave path ("/dev/pts/N", owned by @con), else NULL.
 * Any thread. */
VMMIO_API const char *vmmio_console_pty_name(const struct vmmio_console *con);

/*
 * Counters: bytes the guest wrote that reached the backend (including
 * emergency writes), bytes the guest wrote that were discarded (SOCKET
 * without a client, no out_fd, the reader gone (EPIPE) or a write error,
 * an emergency write meeting EAGAIN), bytes delivered to the guest.
 */
struct vmmio_console_stats {
	uint64_t tx_bytes;
	uint64_t tx_dropped;
	uint64_t rx_bytes;
};
VMMIO_API void vmmio_console_stats(const struct vmmio_console *con,
				   struct vmmio_console_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_CONSOLE_H */
