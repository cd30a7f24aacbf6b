/*
 * What shmex-mm and shmex-taker share: a monotonic clock, a seeded random
 * generator, option parsing helpers, a stop flag set by SIGINT/SIGTERM,
 * and exact decimal printing.
 */
#ifndef SX_MM_COMMON_H
#define SX_MM_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/** Nanoseconds on CLOCK_MONOTONIC (vDSO: no system call). */
static inline int64_t sx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** xoshiro256** state: reproducible from a 64-bit seed. */
struct sx_rng {
	uint64_t s[4];
};

/** Seeds @p r from @p seed (splitmix64, so seeds 0, 1, 2 differ well). */
void sx_rng_seed(struct sx_rng *r, uint64_t seed);

/** The next 64 random bits. */
uint64_t sx_rng_next(struct sx_rng *r);

/** Uniform in [0, n) (n > 0; the modulo bias is below 2^-32 for n < 2^32). */
static inline uint64_t sx_rng_below(struct sx_rng *r, uint64_t n)
{
	return sx_rng_next(r) % n;
}

/** Set by SIGINT or SIGTERM: the run ends early, cleanly. */
extern volatile int sx_stop_requested;

/** Installs the SIGINT/SIGTERM handler (no SA_RESTART: waits return). */
void sx_install_stop_handler(void);

/**
 * Parses option @p name's value as an integer in [lo, hi].
 * @return 0, or prints "PROG: --NAME: why" on stderr and returns -1.
 */
int sx_parse_i64(const char *prog, const char *name, const char *val, int64_t lo, int64_t hi,
		 int64_t *out);

/** Formats @p v minor units at @p decimals as an exact decimal into @p buf. */
const char *sx_dec(int64_t v, unsigned decimals, char *buf, size_t cap);

/** Wall clock as HH:MM:SS.mmm (local time) into @p buf. */
const char *sx_clock_text(char *buf, size_t cap);

#endif /* SX_MM_COMMON_H */
