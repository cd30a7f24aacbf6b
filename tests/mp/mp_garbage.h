/*
 * Hostile clients (child processes) for the garbage test:
 *  - lines: a library session that sends random 64-byte request lines
 *    (shmex_client_send_raw): half pure noise, half plausible requests for
 *    user 3 on ETH/USD with fields out of range. It must get one answer per
 *    line, in order (rejects, or orders for user 3), and never be ended.
 *  - scribbler: a raw session (mp_raw.h) that pushes noise lines, then
 *    scribbles over its region's header, its response ring, the bells
 *    every client shares, and finally its request ring's head; the daemon
 *    must end the session (close the socket). It does this again and again.
 * Both run until the stop pipe closes.
 */
#ifndef MP_GARBAGE_H
#define MP_GARBAGE_H

#include <stdint.h>

struct mp_garbage_result {
	uint64_t sent, done, rejects, orders; /* lines */
	uint64_t rounds, closed;              /* scribbler: sessions, and those the daemon ended */
	int ok;
	char why[256];
};

struct mp_garbage_opts {
	const char *sock;
	uint64_t seed;
	int ready_fd, stop_fd;
	struct mp_garbage_result *result;
};

/** mp_spawn() entries (arg: struct mp_garbage_opts): exit 0 if the daemon
 *  behaved as described above. */
int mp_garbage_lines_main(void *arg);
int mp_garbage_scribbler_main(void *arg);

#endif /* MP_GARBAGE_H */
