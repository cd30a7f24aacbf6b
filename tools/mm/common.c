/* Helpers shared by shmex-mm and shmex-taker (common.h). */
#include "common.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "shmex/fixed.h"

volatile int sx_stop_requested;

static uint64_t sx_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void sx_rng_seed(struct sx_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = sx_splitmix64(&seed);
}

static inline uint64_t sx_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sx_rng_next(struct sx_rng *r)
{
	uint64_t *s = r->s;
	const uint64_t result = sx_rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sx_rotl(s[3], 45);
	return result;
}

static void sx_on_stop(int sig)
{
	(void)sig;
	sx_stop_requested = 1;
}

void sx_install_stop_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sx_on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int sx_parse_i64(const char *prog, const char *name, const char *val, int64_t lo, int64_t hi,
		 int64_t *out)
{
	int64_t v = 0;
	if (val == NULL) {
		fprintf(stderr, "%s: %s needs a value\n", prog, name);
		return -1;
	}
	if (shmex_i64_parse(val, strlen(val), &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: '%s' is not an integer in %lld..%lld\n", prog, name, val,
			(long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

const char *sx_dec(int64_t v, unsigned decimals, char *buf, size_t cap)
{
	if (shmex_dec_format(v, decimals, buf, cap) < 0)
		snprintf(buf, cap, "%lld", (long long)v);
	return buf;
}

const char *sx_clock_text(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	snprintf(buf, cap, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(tv.tv_usec / 1000));
	return buf;
}
