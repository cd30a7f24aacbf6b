/*
 * A latency histogram with log-linear buckets (HdrHistogram's shape): each
 * power of two is split into SX_LAT_SUB equal buckets, so any value is
 * known within 1/SX_LAT_SUB of itself (1.6 %), from 1 ns to 2^63 ns, in a
 * fixed 30 KB. Recording is a few instructions and never allocates.
 */
#ifndef SX_MM_LATENCY_H
#define SX_MM_LATENCY_H

#include <stdint.h>
#include <stdio.h>

#define SX_LAT_SUB_BITS 6
#define SX_LAT_SUB (1u << SX_LAT_SUB_BITS)
/* Buckets 0..SUB-1 hold exact values; then one row of SUB per shift 0..63-SUB_BITS. */
#define SX_LAT_BUCKETS ((64 - SX_LAT_SUB_BITS + 1) * SX_LAT_SUB)

struct sx_latency {
	uint64_t count;
	uint64_t min, max;
	uint64_t sum; /* for the mean: 2^64 ns is 584 years */
	uint64_t bucket[SX_LAT_BUCKETS];
};

/** Empties @p h. */
void sx_latency_init(struct sx_latency *h);

/** Records one value (ns; negative values count as 0). */
void sx_latency_record(struct sx_latency *h, int64_t ns);

/**
 * The value at percentile @p p (0 < p <= 100): the middle of the bucket that
 * holds the ceil(p% * count)-th smallest value, clamped to [min, max]
 * (p = 100 gives max exactly). 0 if @p h is empty.
 */
uint64_t sx_latency_percentile(const struct sx_latency *h, double p);

/** Mean in ns (0 if empty). */
uint64_t sx_latency_mean(const struct sx_latency *h);

/** One line: "N requests: p50 X  p90 X  p99 X  p99.9 X  max X" (us). */
void sx_latency_print(const struct sx_latency *h, FILE *f);

/** A JSON object {"count":..,"p50_ns":..,...,"max_ns":..,"mean_ns":..}. */
void sx_latency_print_json(const struct sx_latency *h, FILE *f);

#endif /* SX_MM_LATENCY_H */
