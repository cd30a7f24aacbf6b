/*
 * Hash seeds (sx_hash_seed.h).
 */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "sx_hash_seed.h"

uint64_t sx_hash_seed(const void *salt)
{
	const char *env = getenv("SHMEX_HASH_SEED");
	uint64_t seed;
	if (env != NULL && *env != '\0') {
		char *end;
		seed = strtoull(env, &end, 0);
		if (*end == '\0')
			return seed;
	}
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)(uintptr_t)salt ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec;
	}
	return seed;
}
