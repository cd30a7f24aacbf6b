/* Benchmark helpers: timer calibration, histogram, pinning, machine. */
#include "bench_util.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static double ticks_per_ns = 1.0;
static uint64_t overhead_ticks;
static int timer_ready;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void bb_timer_init(void)
{
	if (timer_ready)
		return;
#if defined(__x86_64__)
	/* Best of three 30 ms windows: a preemption only makes one longer. */
	double best = 0;
	for (int round = 0; round < 3; round++) {
		uint64_t n0 = mono_ns(), t0 = bb_tick_begin(), n1, t1;
		do {
			n1 = mono_ns();
		} while (n1 - n0 < 30000000u);
		t1 = bb_tick_end();
		double r = (double)(t1 - t0) / (double)(n1 - n0);
		if (round == 0 || r < best)
			best = r;
	}
	ticks_per_ns = best;
#endif
	enum { N = 10001 };
	static uint64_t d[N];
	for (int i = 0; i < N; i++) {
		uint64_t a = bb_tick_begin();
		uint64_t b = bb_tick_end();
		d[i] = b - a;
	}
	qsort(d, N, sizeof d[0], cmp_u64);
	overhead_ticks = d[N / 2];
	timer_ready = 1;
}

double bb_ticks_per_ns(void)
{
	return ticks_per_ns;
}

uint64_t bb_timer_overhead_ticks(void)
{
	return overhead_ticks;
}

double bb_ticks_to_ns(uint64_t ticks)
{
	return (double)ticks / ticks_per_ns;
}

/* ---- histogram ---------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
	if (v < 2 * BB_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - 8u; /* v >> shift lies in [256, 512) */
	unsigned idx = (shift + 1u) * BB_HIST_SUB + (unsigned)(v >> shift) - BB_HIST_SUB;
	return idx < BB_HIST_BUCKETS ? idx : BB_HIST_BUCKETS - 1;
}

/* Highest value that falls into bucket @idx. */
static uint64_t hist_top(unsigned idx)
{
	if (idx < 2 * BB_HIST_SUB)
		return idx;
	unsigned shift = idx / BB_HIST_SUB - 1u;
	uint64_t mant = idx % BB_HIST_SUB + BB_HIST_SUB;
	return ((mant + 1) << shift) - 1;
}

void bb_hist_reset(struct bb_hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

void bb_hist_add(struct bb_hist *h, uint64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	h->sum += (double)ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

uint64_t bb_hist_quantile(const struct bb_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BB_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t top = hist_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

/* ---- machine ------------------------------------------------------------- */

int bb_pin_thread(int cpu)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
		return -1;
	if (cpu < 0) {
		const char *env = getenv("SHMEX_BENCH_CPU");
		if (env && *env)
			cpu = atoi(env);
	}
	if (cpu < 0) {
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &allowed)) {
				cpu = c;
				break;
			}
	}
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -1;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -1;
}

void bb_cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			const char *v = strchr(line, ':');
			if (v) {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				snprintf(buf, len, "%s", v);
				buf[strcspn(buf, "\n")] = 0;
			}
			break;
		}
	}
	fclose(f);
}

size_t bb_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	unsigned long size = 0, resident = 0;
	int ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
	fclose(f);
	return ok ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Copies the value of the first /proc/cpuinfo line whose key is exactly @key;
 * returns 0 if there is none. */
static int cpuinfo_field(const char *key, char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return 0;
	char line[512];
	size_t klen = strlen(key);
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) != 0)
			continue;
		const char *v = line + klen;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != ':') /* "model" must not match "model name" */
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(buf, len, "%s", v);
		buf[strcspn(buf, "\n")] = 0;
		found = 1;
	}
	fclose(f);
	return found;
}

void bb_cpu_signature(char *buf, size_t len)
{
	char fam[16], mod[16], step[16];
	if (cpuinfo_field("cpu family", fam, sizeof fam) && cpuinfo_field("model", mod, sizeof mod) &&
	    cpuinfo_field("stepping", step, sizeof step))
		snprintf(buf, len, "family %s model %s stepping %s", fam, mod, step);
	else if (len)
		buf[0] = 0;
}

void bb_loadavg(double la[3])
{
	la[0] = la[1] = la[2] = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (!f)
		return;
	if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
		la[0] = la[1] = la[2] = -1;
	fclose(f);
}

void bb_machine_read(struct bb_machine *m)
{
	memset(m, 0, sizeof *m);
	bb_cpu_model(m->model, sizeof m->model);
	bb_cpu_signature(m->signature, sizeof m->signature);
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof m->kernel, "%.40s %.60s %.40s", u.sysname, u.release,
			 u.machine);
	bb_loadavg(m->load);
}
