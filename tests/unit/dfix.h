/* SPDX-License-Identifier: Apache-2.0 */
/* Device fixture: any libvmmio device model driven in process through the
 * driver harness (the guest's half), on test RAM (plain or region-split). */
#ifndef VMMIO_DFIX_H
#define VMMIO_DFIX_H

#include <vmmio/device.h>
#include <vmmio/driver.h>

#include "tguest.h"

#define DF_MAXQ 4
#define DF_QSIZE 256

/*
 * Usage:
 *	struct dfix f;
 *	df_mem(&f, split, seed);                 // guest RAM: f.g.mem
 *	cfg.mem = f.g.mem; cfg.host = &df_host; cfg.host_opaque = &f;
 *	vmmio_blk_new(&cfg, &blk);
 *	df_loop(&f, vmmio_blk_fd(blk), blk_process, blk);   // optional
 *	df_start(&f, vmmio_blk_dev(blk), wanted, nq, qsize);
 *	gpa = tg_alloc(&f.g, len, 16); tg_write(&f.g, gpa, ...);
 *	df_submit(&f, 0, bufs, n_out, n_in, DF_DIRECT, token);
 *	df_wait(&f, 0, &token, &len);            // 1: got one
 *	...
 *	vmmio_blk_free(blk); df_free(&f);
 */
struct dfix {
	struct tguest g;
	struct vmmio_dev *dev;
	struct vmmio_drv drv;
	unsigned nq;
	uint16_t qsize;
	uint64_t features; /* accepted at FEATURES_OK */
	struct vmmio_drv_vq vq[DF_MAXQ];
	struct vmmio_drv_slot slot[DF_MAXQ][DF_QSIZE];
	vmmio_gpa_t ring_gpa[DF_MAXQ];
	vmmio_gpa_t table_next; /* indirect tables, reused per df_submit */
	/* event loop of the device (vmmio_X_fd / vmmio_X_process) */
	int fd;
	int (*process)(void *obj);
	void *obj;
	/* interrupt line as the device drives it */
	unsigned raised, lowered;
	unsigned vring_irqs, config_irqs; /* InterruptStatus bits seen */
	unsigned logs;			  /* lines through the log hook */
	char last_log[256];
};

/* Host hooks to create the device with (host_opaque = the fixture). */
extern const struct vmmio_host_ops df_host;

/* Build test RAM (tguest.h) and zero the fixture. */
void df_mem(struct dfix *f, bool split, unsigned seed);
/* The device's event loop: @fd to poll (-1 none), @process to call. */
void df_loop(struct dfix *f, int fd, int (*process)(void *obj), void *obj);
/*
 * Negotiate @wanted (plus VERSION_1), set up @nq queues of @qsize (capped
 * by QueueNumMax) in the ring area, set DRIVER_OK. Asserts success.
 */
void df_start(struct dfix *f, struct vmmio_dev *dev, uint64_t wanted,
	      unsigned nq, uint16_t qsize);
/* As df_start but return the negative errno of the step that failed
 * (-EIO: FEATURES_OK refused / NEEDS_RESET). */
int df_try_start(struct dfix *f, struct vmmio_dev *dev, uint64_t wanted,
		 unsigned nq, uint16_t qsize);

/* Layouts for df_submit. */
enum df_layout {
	DF_DIRECT,   /* every buffer in a ring descriptor */
	DF_INDIRECT, /* every buffer in one indirect table */
	DF_MIXED,    /* first buffer direct, the rest in a table */
};

/*
 * Add a request (buf[0, n_out) device-readable, then n_in writable) to
 * queue @q and notify if the device wants it. @token non-NULL.
 * Return: 0; -ENOSPC the ring is full.
 */
int df_submit(struct dfix *f, unsigned q, const struct vmmio_drv_buf *buf,
	      unsigned n_out, unsigned n_in, enum df_layout layout,
	      void *token);
/*
 * Wait (running the device's event loop, up to 5 s) for the next used
 * element of queue @q; acknowledges interrupts.
 * Return: 1 with *token, *len set; 0 timeout; -EIO bad used element.
 */
int df_wait(struct dfix *f, unsigned q, void **token, uint32_t *len);
/* Run the device's event loop once without waiting (process + ack). */
void df_poll(struct dfix *f);
/* Config space through the transport (asserts success). */
void df_config(struct dfix *f, uint32_t off, void *buf, uint32_t len);
/* Driver reset (status 0) and df_start again with the same parameters. */
void df_restart(struct dfix *f, uint64_t wanted);
/* Free the test RAM (the device is the caller's to free first). */
void df_free(struct dfix *f);

#endif
