/*
 * Benchmark helpers, in C: a calibrated cycle timer, a full latency
 * histogram (log-linear, HdrHistogram style), thread pinning and the
 * machine description printed at the top of every run.
 */
#ifndef SHMEX_BENCH_UTIL_H
#define SHMEX_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- timer ------------------------------------------------------------
 * On x86-64 the timer is the invariant TSC (lfence; rdtsc ... rdtscp;
 * lfence), calibrated against CLOCK_MONOTONIC by bb_timer_init(). Elsewhere
 * it is CLOCK_MONOTONIC in nanoseconds. */

#if defined(__x86_64__)
static inline uint64_t bb_tick_begin(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t bb_tick_end(void)
{
	uint32_t lo, hi, aux;
	__asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}
#else
static inline uint64_t bb_tick_begin(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bb_tick_end(void)
{
	return bb_tick_begin();
}
#endif

/** Calibrates the timer (about 100 ms). Idempotent. */
void bb_timer_init(void);
/** Ticks per nanosecond (1.0 without a TSC). */
double bb_ticks_per_ns(void);
/** Median cost of an empty bb_tick_begin()/bb_tick_end() pair, in ticks. */
uint64_t bb_timer_overhead_ticks(void);
/** Converts ticks to nanoseconds. */
double bb_ticks_to_ns(uint64_t ticks);

/* ---- histogram --------------------------------------------------------
 * Values (nanoseconds) below 512 are exact; above, 256 sub-buckets per
 * power of two (relative error < 0.4%). Range up to 2^40 ns. */

#define BB_HIST_SUB 256u
#define BB_HIST_BUCKETS (34u * BB_HIST_SUB)

struct bb_hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t bucket[BB_HIST_BUCKETS];
};

void bb_hist_reset(struct bb_hist *h);
void bb_hist_add(struct bb_hist *h, uint64_t ns);
/** Highest value equivalent to the @p q quantile (0 < q <= 1). */
uint64_t bb_hist_quantile(const struct bb_hist *h, double q);

/* ---- machine ----------------------------------------------------------- */

/** Pins the calling thread to @p cpu (-1: the highest CPU it may run on, or
 *  $SHMEX_BENCH_CPU if set). Returns the CPU, or -1 if pinning failed. */
int bb_pin_thread(int cpu);

/** Writes "model name" of /proc/cpuinfo (or "unknown") into @p buf. */
void bb_cpu_model(char *buf, size_t len);

/** Resident set size of this process, in bytes (from /proc/self/statm). */
size_t bb_rss_bytes(void);

/** Writes "family F model M stepping S" of /proc/cpuinfo (or "") into @p buf. */
void bb_cpu_signature(char *buf, size_t len);

/** Reads the 1, 5 and 15 minute load averages (-1 where unknown). */
void bb_loadavg(double la[3]);

/** Machine description for the header lines of the plain C benchmarks. */
struct bb_machine {
	char model[128];     /**< "model name" */
	char signature[96];  /**< "family F model M stepping S" */
	long cpus;           /**< online CPUs */
	char kernel[160];    /**< uname: sysname release machine */
	double load[3];      /**< load average when it was read */
};

/** Fills @p m (reads /proc/cpuinfo, /proc/loadavg and uname). */
void bb_machine_read(struct bb_machine *m);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_BENCH_UTIL_H */
