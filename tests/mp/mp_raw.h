/*
 * A raw client for hostile tests: it speaks the socket handshake itself
 * (shm/shmex_control.h) and maps its session region and the bells region
 * read-write, so it can write anything anywhere the daemon lets a client
 * write: request lines, ring control words, the region's header, the
 * bells every client shares. The client library never does any of this.
 */
#ifndef MP_RAW_H
#define MP_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "shmex_ring.h"
#include "shmex_session.h"

struct mp_raw {
	int fd;
	uint8_t *region;
	size_t region_size;
	uint8_t *bells;
	size_t bells_size;
	uint32_t gateway;
	struct shmex_session_layout layout;
	struct shmex_ring req;  /* producer view (for well-framed garbage) */
};

/** Connects and maps: 0, or -1 with a reason on stderr. */
int mp_raw_connect(struct mp_raw *r, const char *sock, const char *name);
void mp_raw_close(struct mp_raw *r);

/** The request ring's control block, the response ring's, and the
 *  gateway's bell, in this client's mapping. */
struct shmex_ring_ctl *mp_raw_req_ctl(struct mp_raw *r);
struct shmex_ring_ctl *mp_raw_resp_ctl(struct mp_raw *r);
struct shmex_bell *mp_raw_gateway_bell(struct mp_raw *r);

/** Rings the gateway's bell (a futex wake), as a client does after a push. */
void mp_raw_ring_gateway(struct mp_raw *r);

/** Waits up to @p timeout_ns for the daemon to close the socket: 1 if it did. */
int mp_raw_wait_closed(struct mp_raw *r, int64_t timeout_ns);

#endif /* MP_RAW_H */
