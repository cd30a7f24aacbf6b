/**
 * @file client_internal.h
 * @brief What the two halves of libshmex share (client.c: the session and
 *        its rings; client_ctl.c: the control round trips). Not installed,
 *        not for direct inclusion by users of the library.
 */
#ifndef SX_CLIENT_INTERNAL_H
#define SX_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "shmex/client.h"
#include "shmex_bells.h"
#include "shmex_ring.h"

/** A session: one socket, one mapped session region, the bells region. */
struct shmex_client {
	struct shmex_ring req;   /**< producer view of the request ring */
	struct shmex_ring resp;  /**< consumer view of the response ring */
	uint64_t requests;       /**< requests published: the last request_no */
	struct shmex_bell *gateway_bell; /**< in the bells region (hostile words) */
	struct shmex_bell *own_bell;     /**< in the session region (hostile words) */
	uint32_t wait_policy;    /**< enum shmex_wait_policy, from WELCOME */
	int broken;              /**< the engine broke the ring protocol: refuse all */
	int fd;                  /**< the control socket */
	int64_t timeout_ns;      /**< for every socket wait */
	uint64_t ctl_ref;        /**< last control request's ref */
	void *region;
	size_t region_size;
	void *bells;
	size_t bells_size;
	struct shmex_client_info info;
};

/** Sets this thread's last error (shmex_client_last_error()). Cold path. */
void sx_client_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Monotonic clock, ns. */
int64_t sx_client_now_ns(void);

/**
 * Waits until @p fd is readable, or until @p deadline_ns (sx_client_now_ns()
 * time). @return 0 (readable or hung up: the read says which),
 * -ETIMEDOUT, or a negated errno of poll(2).
 */
int sx_client_wait_readable(int fd, int64_t deadline_ns);

#endif /* SX_CLIENT_INTERNAL_H */
