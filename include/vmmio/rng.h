/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-rng device model (virtio 1.2 §5.4). */
#ifndef VMMIO_RNG_H
#define VMMIO_RNG_H

#include <vmmio/common.h>
#include <vmmio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An entropy device: each request's writable part is filled from
 * getrandom(2), straight into guest memory, up to max_request bytes (the
 * used length says how many). With a rate limit (token bucket), requests
 * wait in the queue until tokens are back; the embedder polls
 * vmmio_rng_fd() and calls vmmio_rng_process() when it is readable.
 *
 * Details: the bucket starts full, and a reset does not refill it (a
 * guest cannot reset its way to a fresh burst). With a rate limit one call
 * serves at most queue-size chains and re-arms the timer at once if more
 * wait; without one, a notify serves until the ring is empty. A chain
 * with no writable part completes with length 0. A chain may have at most
 * 4 x queue_size + 256 segments (more latches fault SEGMENTS).
 *
 * Threading: the device contract of <vmmio/device.h>.
 */
struct vmmio_rng;

/* Default and largest per-request cap. */
#define VMMIO_RNG_REQUEST_DEFAULT 4096u
#define VMMIO_RNG_REQUEST_MAX (1u << 20)

/*
 * Parameters, copied by vmmio_rng_new().
 * size:         sizeof(struct vmmio_rng_config).
 * max_request:  bytes served per request, 1..VMMIO_RNG_REQUEST_MAX; 0 =
 *               VMMIO_RNG_REQUEST_DEFAULT.
 * rate:         bytes per second, 0 = unlimited.
 * burst:        bucket size in bytes, >= max_request (checked even
 *               without a rate); 0 = max(rate,
 *               max_request). A request is served whole (up to
 *               max_request) once the bucket holds that many bytes.
 * features_off: ring feature bits not to offer.
 * queue_size:   a power of two up to 1024; 0 = 64.
 * version, mem, host, host_opaque: as struct vmmio_dev_config.
 */
struct vmmio_rng_config {
	uint32_t size;
	uint32_t max_request;
	uint64_t rate;
	uint64_t burst;
	uint64_t features_off;
	uint16_t queue_size;
	uint32_t version;
	const struct vmmio_mem *mem;
	const struct vmmio_host_ops *host;
	void *host_opaque;
};

/*
 * vmmio_rng_new() - create the device (reset state); *out receives it.
 * Return: 0; -EINVAL a bad parameter (a message naming the value goes to
 *         the log hook); -ENOMEM; the errno of creating the timer.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_rng_new(const struct vmmio_rng_config *cfg,
					     struct vmmio_rng **out);
/* vmmio_rng_free() - free the device, its transport and timer (NULL ok). */
VMMIO_API void vmmio_rng_free(struct vmmio_rng *rng);
/* vmmio_rng_dev() - the device's virtio-mmio transport, owned by @rng. */
VMMIO_API struct vmmio_dev *vmmio_rng_dev(struct vmmio_rng *rng);
/* Timer descriptor (rate limit), polls readable when tokens are back;
 * -1 without a rate limit. */
VMMIO_API int vmmio_rng_fd(const struct vmmio_rng *rng);
/* vmmio_rng_process() - serve waiting requests as the bucket allows,
 * under the device lock. Return 0 (also when the device is not running);
 * -EIO faulted. */
VMMIO_API VMMIO_MUST_CHECK int vmmio_rng_process(struct vmmio_rng *rng);
/* Bytes given to the guest so far (read under the device lock). */
VMMIO_API uint64_t vmmio_rng_bytes(const struct vmmio_rng *rng);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_RNG_H */
