/* Log-linear latency histogram (latency.h). */
#include "latency.h"

#include <string.h>

void sx_latency_init(struct sx_latency *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

static unsigned sx_lat_index(uint64_t v)
{
	if (v < SX_LAT_SUB)
		return (unsigned)v;
	const unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
	const unsigned shift = e - SX_LAT_SUB_BITS;
	/* v >> shift lies in [SUB, 2 SUB): the row is shift + 1. */
	return (shift + 1) * SX_LAT_SUB + (unsigned)((v >> shift) - SX_LAT_SUB);
}

static uint64_t sx_lat_lower(unsigned i)
{
	if (i < SX_LAT_SUB)
		return i;
	const unsigned shift = i / SX_LAT_SUB - 1;
	return (uint64_t)(SX_LAT_SUB + i % SX_LAT_SUB) << shift;
}

static uint64_t sx_lat_width(unsigned i)
{
	return i < SX_LAT_SUB ? 1 : UINT64_C(1) << (i / SX_LAT_SUB - 1);
}

void sx_latency_record(struct sx_latency *h, int64_t ns)
{
	const uint64_t v = ns > 0 ? (uint64_t)ns : 0;
	h->bucket[sx_lat_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t sx_latency_percentile(const struct sx_latency *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max;
	uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < SX_LAT_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = sx_lat_lower(i) + sx_lat_width(i) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}

uint64_t sx_latency_mean(const struct sx_latency *h)
{
	return h->count ? h->sum / h->count : 0;
}

static const double sx_lat_points[] = { 50.0, 90.0, 99.0, 99.9 };
static const char *const sx_lat_names[] = { "p50", "p90", "p99", "p99.9" };
static const char *const sx_lat_keys[] = { "p50_ns", "p90_ns", "p99_ns", "p99_9_ns" };
#define SX_LAT_NPOINTS (sizeof sx_lat_points / sizeof sx_lat_points[0])

void sx_latency_print(const struct sx_latency *h, FILE *f)
{
	fprintf(f, "%llu requests:", (unsigned long long)h->count);
	for (size_t i = 0; i < SX_LAT_NPOINTS; i++)
		fprintf(f, "  %s %.1f", sx_lat_names[i],
			(double)sx_latency_percentile(h, sx_lat_points[i]) / 1000.0);
	fprintf(f, "  max %.1f  mean %.1f us\n", (double)h->max / 1000.0,
		(double)sx_latency_mean(h) / 1000.0);
}

void sx_latency_print_json(const struct sx_latency *h, FILE *f)
{
	fprintf(f, "{\"count\":%llu", (unsigned long long)h->count);
	for (size_t i = 0; i < SX_LAT_NPOINTS; i++)
		fprintf(f, ",\"%s\":%llu", sx_lat_keys[i],
			(unsigned long long)sx_latency_percentile(h, sx_lat_points[i]));
	fprintf(f, ",\"min_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%llu}",
		(unsigned long long)(h->count ? h->min : 0), (unsigned long long)h->max,
		(unsigned long long)sx_latency_mean(h));
}
