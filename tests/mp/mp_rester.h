/*
 * A client process that places resting orders for one user, says so on a
 * pipe, then either waits to be told to leave (stop pipe closed: it exits
 * without closing its session, as a crashing client would) or keeps
 * streaming (a resting order in, the oldest one out) until it is killed.
 */
#ifndef MP_RESTER_H
#define MP_RESTER_H

#include <stdint.h>

struct mp_rester_opts {
	const char *sock, *name;
	uint32_t flags;      /* enum shmex_session_flag */
	uint32_t user, symbol;
	uint32_t matchers;   /* > 1: answers checked per matcher; symbol on
				mp_world_matcher(symbol, matchers) */
	uint32_t n;          /* resting orders placed before "ready" */
	int64_t price;       /* buy price, below the market so they rest */
	int ready_fd, stop_fd;
	int stream;          /* after ready: stream until killed (bounded: 30 s) */
	int wait_end;        /* after ready: wait for SHUTDOWN (or the socket closing) */
};

/** mp_spawn() entry: arg is a struct mp_rester_opts. Exit 0: as asked;
 *  1: a breach (on stderr). */
int mp_rester_main(void *arg);

#endif /* MP_RESTER_H */
